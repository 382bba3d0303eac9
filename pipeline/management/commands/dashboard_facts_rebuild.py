# manage.py dashboard_facts_rebuild: every move's visit facts and owner, recomputed (after writes around the services).
from django.core.management.base import BaseCommand

from pipeline.stage_facts import stage_facts_refresh, stage_owners_refresh


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's visit facts and deal owner of every stage change (nightly as a periodic "
        "job; by hand after a bulk load that bypassed the services)."
    )

    def handle(self, *args, **options):
        changed, owners = stage_facts_refresh(), stage_owners_refresh()
        self.stdout.write(
            self.style.SUCCESS(f"Dashboard facts rebuilt: {changed} stage changes corrected, {owners} owners.")
        )
