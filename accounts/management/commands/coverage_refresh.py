# manage.py coverage_refresh: rebuild territory coverage after writes that bypassed the services.
from django.core.management.base import BaseCommand

from accounts.territories import coverage_refresh


class Command(BaseCommand):
    help = "Recompute which accounts the active territories cover (after a bulk load that bypassed the services)."

    def handle(self, *args, **options):
        rows = coverage_refresh()
        self.stdout.write(self.style.SUCCESS(f"Territory coverage rebuilt: {rows} rows."))
