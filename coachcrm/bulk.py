"""What the bulk variants of services (used by imports) share, and deleting many rows in batches."""

from django.core.exceptions import ValidationError


class RowErrors(ValidationError):
    """A bulk service's refusal: `rows` maps the index of each refused row to its ValidationError."""

    def __init__(self, rows: dict[int, ValidationError]):
        super().__init__([message for error in rows.values() for message in error.messages])
        self.rows = rows


def delete_in_batches(queryset, *, batch: int = 2000) -> int:
    """Delete the queryset's rows a batch at a time (short transactions, bounded locks); returns how many."""
    deleted = 0
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:batch]):
        deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]
    return deleted
