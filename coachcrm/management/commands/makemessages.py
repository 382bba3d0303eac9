# makemessages that also reads pgettext_noop (names kept in English in the database).
from django.core.management.commands import makemessages

# What the catalog never holds: the virtualenv, collected static files, tests and the benchmark.
PROJECT_IGNORE = [".venv", "staticfiles", "tests", "bench"]


class Command(makemessages.Command):
    """Django's makemessages, also reading `pgettext_noop(context, message)` (accounts.models).

    Names kept in English in the database (the demo's regions, industries and product lines)
    are marked with it under their model's context, so that "Finance" the industry and
    "Finance" the function of a position get a translation each. It always leaves out
    `PROJECT_IGNORE`, so `make messages` and tests/i18n/test_catalog.py read the same files.
    """

    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=pgettext_noop:1c,2"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *PROJECT_IGNORE]
        return super().handle(*args, **options)
