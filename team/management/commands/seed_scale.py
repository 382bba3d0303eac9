"""A realistic large organisation for the benchmark, written with bulk inserts.

Deterministic for a given --seed. Meant for PostgreSQL; it refuses SQLite unless asked.
Each section is a function that takes the shared state and returns what later ones need, so
a feature adds its rows by adding one function to SECTIONS.
"""

import datetime
import random
import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Contact, Employment, Industry, ProductLine, Region, normalize_company_name
from team.models import User

SCALE = {
    "users": 200,
    "accounts": 20_000,
    "contacts": 100_000,
    "employments": 130_000,
    "coaches": 15_000,
    "opportunities": 100_000,
    "stage_changes": 500_000,
    "interactions": 300_000,
    "grants": 20_000,
}
BATCH = 5_000
PASSWORD = "bench-password"  # noqa: S105 - benchmark data only
WORDS = [
    "Acme",
    "Borealis",
    "Cedar",
    "Delta",
    "Evergreen",
    "Fjord",
    "Granite",
    "Harbor",
    "Ionic",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tundra",
    "Umber",
    "Vista",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zephyr",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Drift",
    "Ember",
    "Falcon",
    "Glacier",
    "Horizon",
    "Iris",
    "Jade",
    "Krypton",
    "Lotus",
    "Meridian",
    "Nova",
]
KINDS = [
    "Tools",
    "Bank",
    "Health",
    "Retail",
    "Foods",
    "Insurance",
    "Works",
    "Clinics",
    "Motors",
    "Stores",
    "Capital",
    "Logistics",
    "Pharma",
    "Steel",
]


def _bulk(model, rows):
    model.objects.bulk_create(rows, batch_size=BATCH)


def seed_users(state):
    rnd, n = state["rnd"], state["scale"]["users"]
    password = make_password(PASSWORD)
    managers = [
        User(username=f"mgr{i:03d}", first_name="Manager", last_name=f"{i:03d}", role=User.Role.MANAGER,
             password=password, email=f"mgr{i:03d}@bench.example")
        for i in range(max(1, n // 10))
    ]  # fmt: skip
    _bulk(User, managers)
    managers = list(User.objects.filter(role=User.Role.MANAGER).order_by("pk"))
    reps = [
        User(username=f"rep{i:03d}", first_name="Rep", last_name=f"{i:03d}", role=User.Role.REP, password=password,
             manager=managers[i % len(managers)], email=f"rep{i:03d}@bench.example",
             selling_style=rnd.choice(User.SellingStyle.values))
        for i in range(n - len(managers) - 1)
    ]  # fmt: skip
    _bulk(User, reps)
    User.objects.create(
        username="benchadmin", role=User.Role.ADMIN, password=password, is_staff=True, is_superuser=True
    )
    state["managers"] = managers
    state["reps"] = list(User.objects.filter(role=User.Role.REP).order_by("pk"))


def seed_accounts(state):
    rnd, n = state["rnd"], state["scale"]["accounts"]
    regions = [Region.objects.get_or_create(name=name)[0] for name in ("North", "East", "West", "South", "Central")]
    industries = [
        Industry.objects.get_or_create(name=name)[0]
        for name in ("Manufacturing", "Finance", "Healthcare", "Retail", "Energy", "Public sector")
    ]
    lines = [ProductLine.objects.get_or_create(name=name)[0] for name in ("Analytics", "Cloud", "Support")]
    reps, now = state["reps"], timezone.now()
    rows = []
    for i in range(n):
        name = f"{rnd.choice(WORDS)} {rnd.choice(KINDS)} {i:05d}"
        rows.append(
            Account(
                name=name,
                normalized_name=normalize_company_name(name),
                region=regions[i % len(regions)],
                industry=industries[(i // 7) % len(industries)],
                size_tier=rnd.choices(["key", "mid", "small"], weights=[1, 3, 6])[0],
                owner=reps[i % len(reps)],
                created_at=now,
            )
        )
    _bulk(Account, rows)
    state["account_ids"] = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    through = Account.product_lines.through
    _bulk(through, [through(account_id=a, productline_id=lines[a % 3].pk) for a in state["account_ids"]])
    state["product_line_ids"] = [line.pk for line in lines]


def seed_contacts(state):
    rnd, scale = state["rnd"], state["scale"]
    today = timezone.localdate()
    _bulk(
        Contact,
        [
            Contact(first_name=rnd.choice(WORDS), last_name=f"Person{i:06d}", email=f"person{i:06d}@customer.example")
            for i in range(scale["contacts"])
        ],
    )
    contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    accounts = state["account_ids"]
    movers = scale["employments"] - len(contact_ids)
    rows = []
    for index, contact_id in enumerate(contact_ids):
        start = today - datetime.timedelta(days=rnd.randint(30, 3000))
        if index < movers:
            # A former position before the current one: the people who changed jobs.
            earlier = start - datetime.timedelta(days=rnd.randint(200, 2000))
            rows.append(
                Employment(contact_id=contact_id, account_id=rnd.choice(accounts), title="Manager",
                           start_date=earlier, end_date=start - datetime.timedelta(days=1))
            )  # fmt: skip
        rows.append(
            Employment(contact_id=contact_id, account_id=accounts[index % len(accounts)],
                       title=rnd.choice(["Head of IT", "CFO", "Buyer", "COO", "IT Architect"]),
                       function=rnd.choice(Employment.Function.values), start_date=start)
        )  # fmt: skip
    _bulk(Employment, rows)
    state["contact_ids"] = contact_ids


SECTIONS = [seed_users, seed_accounts, seed_contacts]


class Command(BaseCommand):
    help = "Generate the benchmark's large organisation (PostgreSQL; deterministic for --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--fraction", type=float, default=1.0, help="Scale every count (0.01 for a smoke run).")
        parser.add_argument("--allow-sqlite", action="store_true")

    def handle(self, *args, seed, fraction, allow_sqlite, **options):
        if connection.vendor == "sqlite" and not allow_sqlite:
            raise CommandError("seed_scale is meant for PostgreSQL (set DATABASE_URL); --allow-sqlite to insist.")
        if User.objects.filter(username="benchadmin").exists():
            raise CommandError("The benchmark organisation is already there (user benchadmin exists).")
        state = {
            "rnd": random.Random(seed),
            "scale": {key: max(1, int(value * fraction)) for key, value in SCALE.items()},
            "settings": settings,
        }
        started = time.monotonic()
        for section in SECTIONS:
            begun = time.monotonic()
            with transaction.atomic():
                section(state)
            self.stdout.write(f"{section.__name__}: {time.monotonic() - begun:.1f}s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.monotonic() - started:.1f}s"))
