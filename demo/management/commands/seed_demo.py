# manage.py seed_demo: load the demo organisation (idempotent; refuses with DEBUG off unless --force).
from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Account, Contact
from accounts.territories import coverage_refresh
from coaches.models import Coach
from demo import accounts as accounts_demo
from demo import agenda as agenda_demo
from demo import coach_styles as coaches_styles_demo
from demo import coaches as coaches_demo
from demo import committee as committee_demo
from demo import pipeline as pipeline_demo
from demo import service_catalog as service_catalog_demo
from demo import team as team_demo
from demo import territories as territory_demo
from pipeline.models import Opportunity
from service_catalog.models import Grant
from team.models import Notification, User


class Command(BaseCommand):
    help = "Load the demo organisation (users, accounts, people). Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with a published password; with DEBUG off pass --force.")
        today = timezone.localdate()
        # The demo's notices (approvals asked, handovers opened) stay in the app: e-mailed to
        # the console they scrolled the login table away. Kept in memory, then counted.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            before, mail.outbox = getattr(mail, "outbox", None), []
            self._seed(today)
            held = len(mail.outbox)
            if before is not None:
                mail.outbox = before
        self._summary(held_emails=held)

    def _seed(self, today):
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
            agenda_demo.seed(users=users, today=today)
            committee_demo.seed(users=users, today=today)
            # The demo modules write with the ORM directly: derive the territories' coverage at the end.
            coverage_refresh()

    def _summary(self, *, held_emails: int) -> None:
        counts = [
            ("users", User.objects.count()),
            ("accounts", Account.objects.count()),
            ("people", Contact.objects.count()),
            ("coaches", Coach.objects.count()),
            ("open deals", Opportunity.objects.open().count()),
            ("grants", Grant.objects.count()),
            ("notifications", Notification.objects.count()),
        ]
        self.stdout.write("Demo organisation: " + ", ".join(f"{n} {what}" for what, n in counts) + ".")
        if held_emails:
            self.stdout.write(f"{held_emails} notification e-mail(s) not sent: read them in the app (the bell).")
        self.stdout.write(self.style.SUCCESS("Demo organisation ready. Log in with:"))
        for username, *_rest in team_demo.DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {team_demo.DEMO_PASSWORD}")
