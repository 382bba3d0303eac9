# makemessages that also reads pgettext_noop (names kept in English in the database).
from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Django's makemessages, also reading `pgettext_noop(context, message)` (accounts.models).

    Names kept in English in the database (the demo's regions, industries and product lines)
    are marked with it under their model's context, so that "Finance" the industry and
    "Finance" the function of a position get a translation each.
    """

    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=pgettext_noop:1c,2"]
