"""The ledger's kept sums (service_catalog.ledger_sums) equal their live computation, and so does the ledger.

Oracle tests: a mixed history of grant writes through every writer — the services (approved at once,
pending, approved, passed on to an admin and approved by him, rejected, cancelled), the pages, the
API, the factories, an account merge through the Django admin's action and a person merge through the
service — on both sides of a New Year, in two time zones. Then every `LedgerGroup` row must equal the
grouping of the grants (`ledger_groups_live`), every `LedgerYear` row the year's totals, and the
ledger page of an admin, a manager and a rep (each tab, each year, rows and totals) what the ledger's
selectors computed before the sums were kept (`live_summary`, `live_totals`: the grants the user may
see, grouped on every view). `manage.py ledger_rebuild` gives the same rows again.
"""

import datetime
import io
import threading
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse

import access
from accounts import services as account_services
from accounts.models import Account, Contact
from service_catalog import services
from service_catalog.ledger_sums import COUNTED, ledger_groups_live, ledger_sums_rebuild
from service_catalog.models import LEDGER_KINDS, NEARING_CAP_SHARE, Grant, LedgerGroup, LedgerYear
from service_catalog.selectors import LEDGER_GROUPS, _money_sum, recipient_cap
from tests import factories
from tests.locks import wait_until_someone_waits_for_a_lock

ZONES = ["Asia/Kolkata", "America/Los_Angeles"]
D = Decimal


def live_summary(*, user, group: str, year: int) -> list[dict]:
    """The ledger's rows as its selector computed them before the kept sums: the visible grants, grouped."""
    field, name = LEDGER_GROUPS[group]
    cap = recipient_cap() if group == "recipient" else None
    rows = (
        access.grants(user)
        .in_year(year)
        .filter(status__in=COUNTED)
        .values(group_id=F(field), name=name)
        .annotate(
            approved=_money_sum(filter=Q(status=Grant.Status.APPROVED)),
            pending=_money_sum(filter=Q(status=Grant.Status.PENDING)),
            count=Count("pk"),
        )
        .order_by("-approved", "name", "group_id")
    )
    return [{**row, "nearing_cap": cap is not None and row["approved"] >= cap * NEARING_CAP_SHARE} for row in rows]


def live_totals(*, user, group: str, year: int) -> dict:
    field, _name = LEDGER_GROUPS[group]
    grants = access.grants(user).in_year(year).filter(status__in=COUNTED)
    return grants.aggregate(
        approved=_money_sum(filter=Q(status=Grant.Status.APPROVED)),
        approved_count=Count("pk", filter=Q(status=Grant.Status.APPROVED)),
        pending=_money_sum(filter=Q(status=Grant.Status.PENDING)),
        pending_count=Count("pk", filter=Q(status=Grant.Status.PENDING)),
        groups=Count(field, distinct=True),
    )


def assert_sums_kept() -> None:
    """Every kept row equals the live grouping of the grants; every year's totals their sum."""
    sums = ("approved", "approved_count", "pending", "pending_count")
    live_years: dict[int, dict] = {}
    for kind in LEDGER_KINDS:
        kept = {
            (row["year"], row[kind]): tuple(row[s] for s in sums)
            for row in LedgerGroup.objects.filter(**{f"{kind}__isnull": False}).values("year", kind, *sums)
        }
        live = {(row["year"], row[kind]): tuple(row[s] for s in sums) for row in ledger_groups_live(kind)}
        assert kept == live, kind
        for (year, _id), values in live.items():
            totals = live_years.setdefault(year, {"groups": dict.fromkeys(LEDGER_KINDS, 0), "sums": [0, 0, 0, 0]})
            totals["groups"][kind] += 1
            if kind == "account":
                totals["sums"] = [a + b for a, b in zip(totals["sums"], values, strict=True)]
    kept_years = {
        row.year: {
            "groups": {"account": row.accounts, "recipient": row.recipients, "rep": row.reps},
            "sums": [row.approved, row.approved_count, row.pending, row.pending_count],
        }
        for row in LedgerYear.objects.all()
    }
    assert kept_years == live_years


def assert_ledgers_as_before(client, users, years) -> None:
    """Each user's ledger page (every tab, every year) shows the rows and totals computed live."""
    for user in users:
        client.force_login(user)
        for year in years:
            for group in LEDGER_GROUPS:
                expected = live_summary(user=user, group=group, year=year)
                response = client.get(reverse("service_catalog:ledger"), {"group": group, "year": year})
                assert response.status_code == 200
                page = response.context["page"]
                assert list(page.object_list) == expected[:25], (user, group, year)
                assert page.paginator.count == len(expected)
                totals = live_totals(user=user, group=group, year=year)
                assert {key: response.context["totals"][key] for key in totals} == totals, (user, group, year)
                if len(expected) > 25:
                    second = client.get(reverse("service_catalog:ledger"), {"group": group, "year": year, "page": 2})
                    assert list(second.context["page"].object_list) == expected[25:50]


def _grant_data(item, account, recipient, quantity=1) -> dict:
    return {
        "item": item.pk,
        "quantity": quantity,
        "account": account.pk,
        "recipient": recipient.pk,
        "reason": "relationship",
    }


@pytest.mark.parametrize("zone", ZONES)
def test_kept_sums_and_the_ledger_equal_the_live_computation_after_every_writer(
    zone, settings, client, token_client, rep, manager, other_rep, admin_user
):
    settings.TIME_ZONE = zone
    tz = zoneinfo.ZoneInfo(zone)
    small = factories.ServiceItemFactory(name="Mug", unit_cost=D("40.00"))
    large = factories.ServiceItemFactory(name="Workshop", unit_cost=D("400.00"))
    huge = factories.ServiceItemFactory(name="Summit", unit_cost=D("2500.00"))
    ours = factories.AccountFactory(name="Birch Bank", owner=rep)
    duplicate = factories.AccountFactory(name="Birch Bank Clinics", owner=rep)
    theirs = factories.AccountFactory(name="Oak Works", owner=other_rep)
    anna, bert = factories.person_at(ours), factories.person_at(ours)
    twin = factories.person_at(ours, contact__first_name=anna.first_name, contact__last_name=anna.last_name)
    dora = factories.person_at(duplicate)
    otto = factories.person_at(theirs)

    # Late on New Year's Eve and early on New Year's Day, in the organisation's zone.
    eve = datetime.datetime(2025, 12, 31, 23, 30, tzinfo=tz)
    with time_machine.travel(eve, tick=False):
        services.grant_request(by=rep, item=small, quantity=2, account=ours, recipient=anna, reason="relationship")
        over = services.grant_request(by=rep, item=large, quantity=1, account=ours, recipient=bert, reason="event")
        assert over.status == Grant.Status.PENDING
        services.grant_approve(grant=over, by=manager)
        services.grant_request(by=other_rep, item=small, quantity=1, account=theirs, recipient=otto, reason="other")
        # Other writers: the factories (as tests and demos write), in an earlier year too.
        factories.GrantFactory(account=duplicate, recipient=dora, rep=manager, item=small)
        factories.GrantFactory(account=theirs, recipient=otto, rep=other_rep, item=large, status="rejected")
    factories.GrantFactory(
        account=ours, recipient=twin, rep=rep, item=small, created_at=datetime.datetime(2024, 6, 1, tzinfo=tz)
    )
    assert_sums_kept()

    new_year = datetime.datetime(2026, 1, 1, 0, 30, tzinfo=tz)
    with time_machine.travel(new_year, tick=False):
        # The pages: one within the rep's authority, one over it that the manager rejects there.
        client.force_login(rep)
        client.post(reverse("service_catalog:grant-create"), _grant_data(small, ours, twin))
        client.post(reverse("service_catalog:grant-create"), _grant_data(large, ours, anna))
        refused = Grant.objects.get(recipient=anna, item=large)
        client.force_login(manager)
        client.post(reverse("service_catalog:grant-reject", args=[refused.pk]), {"note": "not this year"})
        # The API: one the rep cancels, one the manager approves, one over the manager's authority
        # that he passes on to an admin, who approves it on the page.
        api = token_client(rep)
        cancelled = api.post(reverse("api:grant-list"), _grant_data(large, ours, bert), format="json").json()["id"]
        api.post(reverse("api:grant-cancel", args=[cancelled]))
        approved = api.post(reverse("api:grant-list"), _grant_data(large, duplicate, dora), format="json").json()["id"]
        token_client(manager).post(reverse("api:grant-approve", args=[approved]), {}, format="json")
        assert Grant.objects.get(pk=approved).status == Grant.Status.APPROVED
        passed = api.post(reverse("api:grant-list"), _grant_data(huge, ours, anna), format="json").json()["id"]
        token_client(manager).post(reverse("api:grant-approve", args=[passed]), {}, format="json")
        assert Grant.objects.get(pk=passed).needs_admin
        assert_sums_kept()
        client.force_login(admin_user)
        client.post(reverse("service_catalog:grant-approve", args=[passed]), {"note": ""})
        assert Grant.objects.get(pk=passed).status == Grant.Status.APPROVED
        # One still pending at the year's end.
        services.grant_request(by=rep, item=large, quantity=1, account=ours, recipient=twin, reason="event")
    statuses = set(Grant.objects.values_list("status", flat=True))
    assert statuses == {"approved", "pending", "rejected", "cancelled"}
    assert_sums_kept()

    # Merges: the accounts through the Django admin's action, two people through the service.
    client.force_login(admin_user)
    client.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "merge_selected", "_selected_action": [duplicate.pk, ours.pk]},
        follow=True,
    )
    assert Account.objects.filter(pk__in=[duplicate.pk, ours.pk]).count() == 1
    survivor = Account.objects.get(pk__in=[duplicate.pk, ours.pk])
    assert Grant.objects.filter(account=survivor).count() == Grant.objects.exclude(account=theirs).count()
    account_services.contact_merge(contact=twin, into=anna, by=manager)
    assert not Contact.objects.filter(pk=twin.pk).exists()
    assert_sums_kept()

    assert_ledgers_as_before(client, [admin_user, manager, rep, other_rep], [2024, 2025, 2026, 2027])

    # The rebuild gives the same rows, and repairs rows written around the services.
    rows = LedgerGroup.objects.order_by("year", "account", "recipient", "rep")
    before = list(rows.values_list("year", "account", "recipient", "rep", "approved", "pending"))
    LedgerGroup.objects.filter(account=survivor).update(approved=D("1.00"))
    LedgerYear.objects.update(reps=0)
    call_command("ledger_rebuild")
    assert list(rows.values_list("year", "account", "recipient", "rep", "approved", "pending")) == before
    assert_sums_kept()


def test_the_rebuild_keeps_no_row_for_groups_without_counted_grants(rep):
    account = factories.AccountFactory(owner=rep)
    factories.GrantFactory(account=account, rep=rep, status="rejected")
    factories.GrantFactory(account=account, rep=rep, status="cancelled")
    assert not LedgerGroup.objects.exists() and not LedgerYear.objects.exists()
    grant = factories.GrantFactory(account=account, rep=rep)
    assert LedgerYear.objects.get().approved == grant.amount
    Grant.objects.filter(pk=grant.pk).update(status="rejected")  # around the services
    assert ledger_sums_rebuild()["account"] == 0
    assert not LedgerGroup.objects.exists() and not LedgerYear.objects.exists()
    assert_sums_kept()


def test_an_admins_ledger_reads_the_kept_rows_in_their_order(client, admin_user, rep):
    accounts = [factories.AccountFactory(owner=rep, name=f"Account {i:02d}") for i in range(30)]
    for index, account in enumerate(accounts):
        # Ties on the amount: ordered by name, then id, as the live grouping was.
        factories.GrantFactory(account=account, rep=rep, item=factories.ServiceItemFactory(unit_cost=10 + index % 3))
    year = datetime.date.today().year
    client.force_login(admin_user)
    rows = list(client.get(reverse("service_catalog:ledger"), {"group": "account"}).context["page"])
    assert rows == live_summary(user=admin_user, group="account", year=year)[:25]
    assert [row["approved"] for row in rows[:3]] == [D("12.00")] * 3
    assert [row["name"] for row in rows[:3]] == ["Account 02", "Account 05", "Account 08"]


@pytest.mark.parametrize("group", ["account", "recipient", "rep"])
@pytest.mark.parametrize("rows", [1, 50])
def test_an_admins_ledger_query_count_does_not_grow_with_rows(
    client, admin_user, rep, group, rows, django_assert_num_queries
):
    for _ in range(rows):
        factories.GrantFactory(account=factories.AccountFactory(owner=rep))
    client.force_login(admin_user)
    # session, user, the year's kept totals (with its number of groups), the page of kept rows
    # with their names joined, the recipient cap on the recipient tab, unread badge.
    with django_assert_num_queries(6 if group == "recipient" else 5):
        response = client.get(reverse("service_catalog:ledger"), {"group": group})
    assert response.context["page"].paginator.count == (1 if group == "rep" else rows)
    assert len(response.context["page"]) == (1 if group == "rep" else min(rows, 25))


def test_a_ledger_page_past_the_last_or_not_a_number_is_paged_as_before(client, manager, rep):
    for index in range(30):
        factories.GrantFactory(account=factories.AccountFactory(owner=rep, name=f"Account {index:02d}"))
    year = datetime.date.today().year
    expected = live_summary(user=manager, group="account", year=year)
    totals = live_totals(user=manager, group="account", year=year)
    client.force_login(manager)
    for asked, shown in [("2", 2), ("9", 2), ("0", 2), ("soon", 1), ("", 1)]:
        response = client.get(reverse("service_catalog:ledger"), {"page": asked})
        page = response.context["page"]
        assert page.number == shown, asked
        assert list(page.object_list) == expected[(shown - 1) * 25 : shown * 25]
        assert {key: response.context["totals"][key] for key in totals} == totals
    client.force_login(factories.RepFactory())
    empty = client.get(reverse("service_catalog:ledger"))
    assert list(empty.context["page"]) == [] and empty.context["totals"]["groups"] == 0


def test_sums_kept_by_the_demo_data(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert LedgerGroup.objects.exists()
    assert_sums_kept()


@pytest.mark.postgres
def test_sums_kept_by_seed_scale(db):
    call_command("seed_scale", fraction=0.002, stdout=io.StringIO())
    assert LedgerYear.objects.exists()
    assert_sums_kept()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_grants_of_one_year_written_at_once_are_both_counted():
    """A grant requested while another transaction requests one in the same year: the year's totals see both."""
    item = factories.ServiceItemFactory(unit_cost=D("40.00"))
    first, second = factories.RepFactory(), factories.RepFactory()
    ours, theirs = factories.AccountFactory(owner=first), factories.AccountFactory(owner=second)
    written, errors = threading.Event(), []

    def request_and_commit_once_the_other_waits():
        try:
            with transaction.atomic():
                services.grant_request(
                    by=first, item=item, quantity=1, account=ours, recipient=factories.person_at(ours), reason="other"
                )
                written.set()
                with connection.cursor() as cursor:
                    if not wait_until_someone_waits_for_a_lock(cursor):
                        errors.append("the second grant never waited for the year's lock")
        except Exception as error:
            errors.append(error)
            written.set()
        finally:
            connection.close()

    recipient = factories.person_at(theirs)
    thread = threading.Thread(target=request_and_commit_once_the_other_waits)
    thread.start()
    assert written.wait(10)
    services.grant_request(by=second, item=item, quantity=1, account=theirs, recipient=recipient, reason="other")
    thread.join(10)
    assert errors == []
    assert LedgerYear.objects.get().approved_count == 2
    assert_sums_kept()
