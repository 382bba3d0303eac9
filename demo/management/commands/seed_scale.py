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

from accounts.models import (
    Account,
    Contact,
    Employment,
    Industry,
    ProductLine,
    Region,
    Territory,
    normalize_company_name,
)
from accounts.territories import coverage_refresh
from coaches.models import Coach, Holder, Interaction
from pipeline.models import Opportunity, Stage, StageChange
from pipeline.stage_facts import stage_facts_refresh
from service_catalog.ledger_sums import ledger_sums_rebuild
from service_catalog.models import Grant, ServiceItem
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


LEAVER = "leaver"  # the rep holding LEAVER_COACHES coaches, for the departure measurement
LEAVER_COACHES = 1_000


def seed_coaches(state):
    """Coaches with holders: most held by the account owner, ~40% single-threaded, some at risk.

    The rep `leaver` is primary holder of LEAVER_COACHES of them (fewer at a small --fraction).
    """
    rnd, n, today = state["rnd"], state["scale"]["coaches"], timezone.localdate()
    reps = state["reps"]
    leaver = User.objects.create(
        username=LEAVER, first_name="Leaving", last_name="Rep", role=User.Role.REP, password=make_password(PASSWORD),
        manager=state["managers"][0], email="leaver@bench.example",
    )  # fmt: skip
    contact_ids, accounts = state["contact_ids"], state["account_ids"]
    step = max(1, len(contact_ids) // n)
    leaver_every = max(1, n // LEAVER_COACHES)
    coaches, holders = [], []
    for i in range(n):
        index = (i * step) % len(contact_ids)
        account_index = index % len(accounts)  # the contact's current employer (see seed_contacts)
        status = rnd.choices(["active", "lapsed", "ended"], weights=[85, 10, 5])[0]
        at_risk = status == "active" and rnd.random() < 0.03
        coaches.append(
            Coach(account_id=accounts[account_index], contact_id=contact_ids[index], status=status,
                  strength=rnd.choice(Coach.Strength.values), credible=rnd.random() < 0.7,
                  trusts_us=rnd.random() < 0.7, wants_us_to_win=rnd.random() < 0.6, has_power=rnd.random() < 0.4,
                  established_on=today - datetime.timedelta(days=rnd.randint(30, 1500)),
                  last_verified_on=today - datetime.timedelta(days=rnd.randint(1, 200)),
                  at_risk=at_risk, at_risk_reason="Benchmark" if at_risk else "",
                  at_risk_since=timezone.now() if at_risk else None)
        )  # fmt: skip
        leaver_holds = i % leaver_every == 0 and i // leaver_every < LEAVER_COACHES
        primary = leaver if leaver_holds else reps[account_index % len(reps)]
        users = [primary]
        if rnd.random() < 0.6:
            other = rnd.choice(reps)
            if other != primary:
                users.append(other)
        holders.append(users)
        # The holder count the services keep (`holder_counts_refresh`), for the rows created below.
        coaches[-1].holder_count = len(users)
    _bulk(Coach, coaches)
    coach_ids = list(Coach.objects.order_by("pk").values_list("pk", flat=True))
    _bulk(
        Holder,
        [
            Holder(coach_id=coach_id, user=user, is_primary=position == 0, since=coach.established_on)
            for coach_id, coach, users in zip(coach_ids, coaches, holders, strict=True)
            for position, user in enumerate(users)
        ],
    )
    state["coaches"] = list(zip(coach_ids, coaches, holders, strict=True))
    state["coach_accounts"] = {coach.account_id for coach in coaches if coach.status == "active"}


def seed_interactions(state):
    """Interactions spread over the coaches; ~15% of the active ones stale, ~5% past the lapse age.

    Coach.last_interaction_on is set to the newest interaction, as interaction_log keeps it.
    """
    rnd, n, today = state["rnd"], state["scale"]["interactions"], timezone.localdate()
    coaches = state["coaches"]
    per_coach = max(1, n // len(coaches))
    rows, last = [], []
    for position, (coach_id, coach, users) in enumerate(coaches):
        count = per_coach + (1 if position < n - per_coach * len(coaches) else 0)
        roll = rnd.random()
        if coach.status != "active" or roll < 0.05:
            newest = rnd.randint(settings.COACH_LAPSE_DAYS + 1, settings.COACH_LAPSE_DAYS + 400)
        elif roll < 0.15:
            newest = rnd.randint(settings.COACH_STALE_DAYS + 1, settings.COACH_LAPSE_DAYS)
        else:
            newest = rnd.randint(0, settings.COACH_STALE_DAYS - 1)
        age = (today - coach.established_on).days
        newest = min(newest, age)
        days = [newest, *(rnd.randint(newest, max(newest, age)) for _ in range(count - 1))]
        for day in days:
            rows.append(
                Interaction(coach_id=coach_id, user=rnd.choice(users), kind=rnd.choice(Interaction.Kind.values),
                            occurred_on=today - datetime.timedelta(days=day))
            )  # fmt: skip
        coach.pk, coach.last_interaction_on = coach_id, today - datetime.timedelta(days=newest)
        coach.touch_due_refresh()
        last.append(coach)
    _bulk(Interaction, rows)
    Coach.objects.bulk_update(last, ["last_interaction_on", "next_touch_due"], batch_size=BATCH)


# The share of steps taken back and forward again: brings the history to ~5 changes a deal.
BACK_SHARE = 0.65


def _stage_path(rnd, stages, has_coach):
    """The stages a deal went through, and how it ended (won, lost or still open)."""
    lead, qualified, confirmed, proposal, negotiation, won, lost = stages
    ladder = [lead, qualified, confirmed, proposal, negotiation]
    outcome = rnd.choices(["won", "lost", "open"], weights=[25, 25, 50])[0]
    top = len(ladder) if outcome == "won" else rnd.randint(1, len(ladder))
    if not has_coach:
        top = min(top, 2)  # the gate: no coach, no further than Qualified
        outcome = "lost" if outcome == "won" else outcome
    path = ladder[:top]
    if outcome == "won":
        path.append(won)
    elif outcome == "lost":
        path.append(lost)
    return path, outcome


def seed_opportunities(state):
    """Deals with their stage history (~5 changes each) and consistent stage_entered_at/closed_at/had_coach_at_close."""
    rnd, scale, now = state["rnd"], state["scale"], timezone.now()
    stages = list(Stage.objects.order_by("order"))
    accounts, reps = state["account_ids"], state["reps"]
    with_coach = state["coach_accounts"]
    lines = state["product_line_ids"]
    n = scale["opportunities"]
    opportunities, histories = [], []
    for i in range(n):
        account_index = rnd.randrange(len(accounts))
        account_id = accounts[account_index]
        has_coach = account_id in with_coach
        path, outcome = _stage_path(rnd, stages, has_coach)
        at = now - datetime.timedelta(days=rnd.randint(10, 1400), minutes=rnd.randint(0, 1440))
        changes, previous = [], None
        for stage in path:
            changes.append((previous, stage, at, "advance"))
            if previous is not None and stage.order < 60 and rnd.random() < BACK_SHARE:
                # A step back and forward again, as real deals do.
                at += datetime.timedelta(days=rnd.randint(1, 20))
                changes.append((stage, previous, at, "back"))
                at += datetime.timedelta(days=rnd.randint(1, 20))
                changes.append((previous, stage, at, "advance"))
            previous = stage
            at += datetime.timedelta(days=rnd.randint(1, 40))
        last_at = min(changes[-1][2], now)
        closed = outcome != "open"
        opportunities.append(
            Opportunity(account_id=account_id, name=f"Deal {i:06d}", product_line_id=lines[i % len(lines)],
                        amount=rnd.randint(5, 500) * 1000, currency=settings.CRM_CURRENCY, stage=path[-1],
                        owner=reps[account_index % len(reps)], status=outcome,
                        expected_close=(last_at + datetime.timedelta(days=rnd.randint(10, 120))).date(),
                        closed_at=last_at if closed else None, had_coach_at_close=has_coach if closed else None,
                        stage_entered_at=last_at, created_at=changes[0][2])
        )  # fmt: skip
        histories.append(changes)
    _bulk(Opportunity, opportunities)
    ids = list(Opportunity.objects.order_by("pk").values_list("pk", flat=True))
    rows = []
    for opportunity_id, opportunity, changes in zip(ids, opportunities, histories, strict=True):
        for source, target, at, kind in changes:
            rows.append(
                StageChange(opportunity_id=opportunity_id, from_stage=source, to_stage=target, by=opportunity.owner,
                            owner=opportunity.owner, at=min(at, now), kind=kind)
            )  # fmt: skip
            if len(rows) >= BATCH * 10:
                _bulk(StageChange, rows)
                rows = []
    _bulk(StageChange, rows)
    stage_facts_refresh()  # the dashboard's visit facts of the moves bulk-created here


GRANT_STATUSES = ["approved", "pending", "rejected"]


def seed_grants(state):
    """Grants over the last two years: mostly approved (authorised by the rep), some pending with the manager."""
    rnd, n, now = state["rnd"], state["scale"]["grants"], timezone.now()
    items = [
        ServiceItem.objects.get_or_create(name=name, defaults={"unit_cost": cost, "category": category})[0]
        for name, cost, category in (
            ("Bench workshop day", 1200, ServiceItem.Category.SERVICE),
            ("Bench training seat", 400, ServiceItem.Category.SERVICE),
            ("Bench event ticket", 150, ServiceItem.Category.SERVICE),
        )
    ]
    accounts, contacts, reps = state["account_ids"], state["contact_ids"], state["reps"]
    rows = []
    for _ in range(n):
        item, quantity = rnd.choice(items), rnd.randint(1, 3)
        index = rnd.randrange(len(contacts))
        rep = reps[(index % len(accounts)) % len(reps)]
        status = rnd.choices(GRANT_STATUSES, weights=[88, 8, 4])[0]
        created = now - datetime.timedelta(days=rnd.randint(0, 700), minutes=rnd.randint(0, 1440))
        decided = status != Grant.Status.PENDING
        rows.append(
            Grant(item=item, quantity=quantity, unit_cost=item.unit_cost, amount=item.unit_cost * quantity,
                  account_id=accounts[index % len(accounts)], recipient_id=contacts[index], rep=rep,
                  reason=rnd.choice(Grant.Reason.values), status=status,
                  approver_id=None if status == Grant.Status.APPROVED else rep.manager_id,
                  authorised_by=rep if status == Grant.Status.APPROVED else None,
                  decided_by_id=rep.manager_id if status == Grant.Status.REJECTED else None,
                  decided_at=created if decided else None, created_at=created)
        )  # fmt: skip
    _bulk(Grant, rows)


def seed_ledger(state):
    """The ledger's kept sums, derived once (bulk inserts bypass the grant services)."""
    ledger_sums_rebuild()


def seed_territories(state):
    """A few territories, one per region, each with a handful of members."""
    rnd, reps = state["rnd"], state["reps"]
    for order, region in enumerate(Region.objects.order_by("name"), start=1):
        territory = Territory.objects.create(name=f"Bench {region.name}", order=1000 + order, region=region)
        territory.members.set(rnd.sample(reps, min(5, len(reps))))


def seed_coverage(state):
    """Which accounts the territories cover, derived once (bulk inserts bypass the services)."""
    coverage_refresh()


SECTIONS = [
    seed_users,
    seed_accounts,
    seed_contacts,
    seed_coaches,
    seed_interactions,
    seed_opportunities,
    seed_grants,
    seed_ledger,
    seed_territories,
    seed_coverage,
]


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
            # At least a manager and a few reps, however small the fraction.
            "scale": {key: max(10 if key == "users" else 1, int(value * fraction)) for key, value in SCALE.items()},
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
