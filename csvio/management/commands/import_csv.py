# manage.py import_csv: the same dry run and confirmation as the import page, from a shell.
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from csvio import importers, layouts
from csvio.models import ImportMapping
from team.models import User


class Command(BaseCommand):
    help = (
        "Import a CSV file of accounts, contacts or coaches. Without --commit it is a dry run that writes nothing; "
        "with --commit every row is imported, or none if any row is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(importers.IMPORTERS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true", help="Write the rows (default: dry run).")
        parser.add_argument("--user", help="Import as this user (default: the first active admin).")
        parser.add_argument(
            "--mapping",
            help="A mapping saved on the import page, by name (default: the columns proposed from the file's header, "
            "HubSpot and Salesforce exports included).",
        )

    def handle(self, *args, kind, file, commit, user, mapping, **options):
        by = self._user(user)
        saved = None
        if mapping:
            saved = ImportMapping.objects.filter(kind=kind, name=mapping).first()
            if saved is None:
                names = ", ".join(ImportMapping.objects.filter(kind=kind).values_list("name", flat=True)) or "none"
                raise CommandError(f"No saved {kind} mapping named {mapping!r} (saved: {names}).")
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            importer = importers.importer_class(kind)(user=by, values=saved.values if saved else None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        try:
            text = importers.decode(data)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        report = importers.run(
            importer,
            text,
            commit=commit,
            columns=saved.columns if saved else None,
            defaults=saved.defaults if saved else None,
        )
        layout = layouts.BY_KEY.get(report.layout)
        if layout is not None and saved is None:
            self.stdout.write(f"Read as: {layout.label}")
        for message in report.file_errors:
            self.stderr.write(message)
        if report.ignored_columns:
            self.stdout.write(f"Ignored columns: {', '.join(report.ignored_columns)}")
        for row in report.rows:
            if row.outcome != importers.CREATED:
                column = f" [{row.column}]" if row.column else ""
                self.stdout.write(f"line {row.line}: {row.outcome}{column} {row.label}: {row.detail}".rstrip())
        counts = ", ".join(f"{n} {outcome}" for outcome, n in report.counts.items())
        if not report.ok:
            raise CommandError(f"Nothing imported: fix the rows marked error. ({counts})")
        self.stdout.write(
            self.style.SUCCESS(f"{'Imported' if report.committed else 'Dry run, nothing written'}: {counts}")
        )

    def _user(self, username):
        users = User.objects.active()
        found = (
            users.filter(username=username).first()
            if username
            else users.filter(role=User.Role.ADMIN).order_by("pk").first()
        )
        if found is None:
            raise CommandError(f"No active user {username}." if username else "No active admin; pass --user.")
        return found
