# manage.py versions_bump: after writes the database watch could not see (psql, a restore), so
# that no report is served from the cache as it was before them.
from django.apps import apps
from django.core.management.base import BaseCommand

from coachcrm import versions


class Command(BaseCommand):
    help = "Bump the data version of every table, so that every cached report is computed anew."

    def handle(self, *args, **options):
        tables = {model._meta.db_table for model in apps.get_models()}
        versions.bump(tables)
        self.stdout.write(f"Bumped {len(tables)} tables.")
