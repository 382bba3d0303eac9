# manage.py visible_refresh: the kept visible accounts rebuilt (after writes that bypassed the services).
from django.core.management.base import BaseCommand

from coaches.visibility import visible_refresh


class Command(BaseCommand):
    help = "Rebuild the accounts each rep and manager may see (VisibleAccount) from owners, holders, territories."

    def handle(self, *args, **options):
        rows = visible_refresh()
        self.stdout.write(self.style.SUCCESS(f"Visible accounts rebuilt: {rows} rows."))
