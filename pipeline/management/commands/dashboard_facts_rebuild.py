# manage.py dashboard_facts_rebuild: every move's visit facts, recomputed (after writes that bypassed the services).
from django.core.management.base import BaseCommand

from pipeline.stage_facts import stage_facts_refresh


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's visit facts of every stage change (nightly as a periodic job; by hand "
        "after a bulk load that bypassed the services)."
    )

    def handle(self, *args, **options):
        changed = stage_facts_refresh()
        self.stdout.write(self.style.SUCCESS(f"Dashboard facts rebuilt: {changed} stage changes corrected."))
