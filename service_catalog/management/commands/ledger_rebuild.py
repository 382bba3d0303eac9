# manage.py ledger_rebuild: the ledger's kept sums per year and group, recomputed from the grants.
from django.core.management.base import BaseCommand

from service_catalog.ledger_sums import ledger_sums_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the ledger's sums per year and account, recipient and rep from the grants (after a bulk "
        "load that bypassed the services, or a change of TIME_ZONE)."
    )

    def handle(self, *args, **options):
        rows = ledger_sums_rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger sums rebuilt: {rows['account']} accounts, {rows['recipient']} recipients, "
                f"{rows['rep']} reps over {len(rows['years'])} years."
            )
        )
