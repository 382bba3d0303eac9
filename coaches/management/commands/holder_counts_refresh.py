# manage.py holder_counts_refresh: every coach's kept holder count, recounted (after writes that bypassed the services).
from django.core.management.base import BaseCommand

from coaches.services import holder_counts_rebuild


class Command(BaseCommand):
    help = "Recount every coach's holders into Coach.holder_count (after writing holders behind the services' back)."

    def handle(self, *args, **options):
        changed = holder_counts_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Holder counts rebuilt: {changed} coaches corrected."))
