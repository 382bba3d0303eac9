# manage.py seed_demo: load the demo organisation (idempotent; refuses with DEBUG off unless --force).
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.territories import coverage_refresh
from demo import accounts as accounts_demo
from demo import coach_styles as coaches_styles_demo
from demo import coaches as coaches_demo
from demo import committee as committee_demo
from demo import pipeline as pipeline_demo
from demo import service_catalog as service_catalog_demo
from demo import team as team_demo
from demo import territories as territory_demo


class Command(BaseCommand):
    help = "Load the demo organisation (users, accounts, people). Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with a published password; with DEBUG off pass --force.")
        today = timezone.localdate()
        with transaction.atomic():
            users = team_demo.seed()
            accounts_demo.seed(users=users, today=today)
            service_catalog_demo.seed(users=users)
            coaches_demo.seed(users=users, today=today)
            # Before the deals: the accounts it routes are part of the set the deals spread over.
            territory_demo.seed(users=users)
            pipeline_demo.seed(users=users, today=today)
            pipeline_demo.seed_closed_history(users=users, today=today)
            coaches_styles_demo.seed(users=users, today=today)
            committee_demo.seed(users=users, today=today)
            # The demo modules write with the ORM directly: derive the territories' coverage at the end.
            coverage_refresh()
        self.stdout.write(self.style.SUCCESS("Demo organisation ready. Log in with:"))
        for username, *_rest in team_demo.DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {team_demo.DEMO_PASSWORD}")
