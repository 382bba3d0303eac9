"""What the bulk variants of services (used by imports) share."""

from django.core.exceptions import ValidationError


class RowErrors(ValidationError):
    """A bulk service's refusal: `rows` maps the index of each refused row to its ValidationError."""

    def __init__(self, rows: dict[int, ValidationError]):
        super().__init__([message for error in rows.values() for message in error.messages])
        self.rows = rows
