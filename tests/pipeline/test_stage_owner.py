"""`StageChange.owner` is its deal's owner now, after every kind of write that creates moves or changes an owner.

The oracle: each move's kept owner against its deal's owner read afresh (`assert_owners_kept`),
after each writer of `Opportunity.owner` or of moves: the deal services (create, move,
send-back, override, reopen, update), the page, the API, the Django admin, the CSV import
(new deals and an update by external id), the departures' bulk move, an account merge and an
account reassignment (neither changes a deal's owner), the test factories and the demo; and
the nightly rebuild after a write that bypassed the services. The dashboard computed with and
without the column is compared in test_dashboard_facts.py.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts import services as account_services
from coaches import services as coach_services
from csvio import services as csv_services
from departures import services as departure_services
from pipeline import services
from pipeline.models import Opportunity, StageChange
from pipeline.stage_facts import stage_owners_refresh
from pipeline.tasks import dashboard_facts_rebuild_task
from team.models import User
from tests import factories


def assert_owners_kept(*deals: Opportunity) -> None:
    """Every move's owner is its deal's owner (each of `deals` must have moves)."""
    owners = dict(Opportunity.objects.values_list("pk", "owner_id"))
    kept = list(StageChange.objects.values_list("pk", "opportunity_id", "owner_id"))
    assert kept
    assert [(pk, owner) for pk, deal, owner in kept if owner != owners[deal]] == []
    for deal in deals:
        assert StageChange.objects.filter(opportunity=deal, owner_id=owners[deal.pk]).exists(), deal


@pytest.fixture
def coached(rep):
    account = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=account, holder=rep)
    return account


def _create(by, account, **fields):
    return services.opportunity_create(
        by=by, account=account, name=fields.pop("name", "Deal"), product_line=factories.ProductLineFactory(),
        amount=Decimal(100), **fields,
    )  # fmt: skip


def test_the_deal_services_write_and_follow_the_owner(rep, manager, other_rep, coached, stages, loss_reason):
    colleague = factories.RepFactory(manager=manager)
    deal = _create(manager, coached, owner=colleague)
    assert_owners_kept(deal)
    services.opportunity_move(opportunity=deal, stage=stages["Qualified"], by=colleague)
    services.opportunity_update(opportunity=deal, by=manager, owner=rep)
    assert_owners_kept(deal)
    assert set(StageChange.objects.filter(opportunity=deal).values_list("owner", flat=True)) == {rep.pk}
    services.opportunity_move(opportunity=deal, stage=stages["Lost"], by=rep, loss_reason=loss_reason)
    services.opportunity_reopen(opportunity=deal, stage=stages["Lead"], by=manager, reason="Back.")
    assert_owners_kept(deal)
    # A rep cannot change the owner (ignored), and an update without an owner leaves the moves alone.
    services.opportunity_update(opportunity=deal, by=rep, owner=other_rep, name="Renamed")
    services.opportunity_update(opportunity=deal, by=manager, amount=Decimal(7))
    assert_owners_kept(deal)
    # An override past the gate; a send-back when the coach goes.
    held = _create(rep, factories.AccountFactory(owner=rep), name="Held")
    services.opportunity_override(opportunity=held, stage=stages["Proposal"], by=manager, reason="Known.")
    services.opportunity_update(opportunity=held, by=manager, owner=colleague)
    services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    coach_services.coach_set_status(coach=coached.coaches.get(), status="ended", by=manager, reason="Left.")
    services.account_send_back(account_id=coached.pk)
    assert StageChange.objects.filter(opportunity=deal, kind=StageChange.Kind.SENT_BACK).exists()
    assert_owners_kept(deal, held)


def test_an_import_writes_the_owner_and_its_update_by_id_follows_it(admin_user, rep, manager, stages):
    colleague = factories.RepFactory(manager=manager, username="carol")
    rep.username = "dave"
    rep.save()
    account = factories.AccountFactory(owner=rep, name="Borealis Bank")
    factories.ProductLineFactory(name="Analytics")
    header = "external_id,name,account,product_line,amount,stage,owner,created_at,closed_on\n"
    rows = (
        "D1,Rollout,Borealis Bank,Analytics,1000,Qualified,dave,2026-01-05,\n"
        "D2,Renewal,Borealis Bank,Analytics,2000,Won,dave,2026-01-05,2026-02-01\n"
    )
    for text in (rows, rows.replace("Qualified,dave", "Qualified,carol")):
        batch = csv_services.import_batch_create(
            by=admin_user, kind="deals", filename="deals.csv", data=(header + text).encode()
        )
        assert batch.report["ok"], batch.report["rows"]
        csv_services.import_batch_confirm(batch=batch, by=admin_user)
    rollout, renewal = Opportunity.objects.get(name="Rollout"), Opportunity.objects.get(name="Renewal")
    assert (rollout.owner, renewal.owner, renewal.stage_changes.count()) == (colleague, rep, 2)
    assert rollout.account == account
    assert_owners_kept(rollout, renewal)


def test_the_page_the_api_and_the_admin_follow_the_owner(client, token_client, manager, rep, admin_user, coached):
    colleague = factories.RepFactory(manager=manager)
    deal = _create(rep, coached)
    fields = {"name": deal.name, "product_line": deal.product_line_id, "amount": "100"}
    client.force_login(manager)
    page = client.post(reverse("pipeline:opportunity-update", args=[deal.pk]), {**fields, "owner": colleague.pk})
    assert page.status_code == 302
    assert_owners_kept(deal)
    api = token_client(manager).patch(
        reverse("api:opportunity-detail", args=[deal.pk]), {"owner": rep.pk}, format="json"
    )
    assert api.status_code == 200, api.content
    assert_owners_kept(deal)
    client.force_login(admin_user)
    admin = client.post(
        reverse("admin:pipeline_opportunity_change", args=[deal.pk]),
        {**fields, "owner": colleague.pk, "stage_changes-TOTAL_FORMS": "0", "stage_changes-INITIAL_FORMS": "0"},
    )
    assert admin.status_code == 302
    deal.refresh_from_db()
    assert deal.owner == colleague
    assert_owners_kept(deal)


def test_a_departure_moves_the_deals_with_their_moves_and_a_merge_keeps_them(rep, manager, admin_user, stages):
    leaving = factories.RepFactory(manager=manager)
    accounts = [factories.AccountFactory(owner=leaving) for _ in range(3)]
    deals = [_create(leaving, account, name=f"Deal {n}") for n, account in enumerate(accounts)]
    elsewhere = _create(manager, factories.AccountFactory(owner=rep), name="Elsewhere", owner=leaving)
    leaving.status, leaving.departure_date = User.Status.LEAVING, elsewhere.created_at.date()
    leaving.save()
    assert departure_services.user_depart(user_id=leaving.pk)["opportunities"] == 4
    assert not StageChange.objects.filter(owner=leaving).exists()
    assert_owners_kept(*deals, elsewhere)
    # A merge moves the deals to the other account and keeps their owner (so, their moves').
    account_services.account_merge(account=accounts[0], into=accounts[1], by=admin_user)
    # Reassigning an account leaves its deals' owner (and their moves') as they are.
    account_services.account_reassign(account=accounts[1], owner=rep, by=admin_user, reason="Territory.")
    assert_owners_kept(*deals, elsewhere)


def test_the_factories_give_a_move_its_deals_owner(rep, stages):
    change = factories.StageChangeFactory(opportunity=factories.OpportunityFactory(owner=rep))
    assert change.owner == rep
    assert_owners_kept(change.opportunity)


def test_the_rebuild_restores_the_owners_after_a_write_around_the_services(rep, other_rep, coached, stages):
    deals = [_create(rep, coached, name=f"Deal {n}") for n in range(3)]
    Opportunity.objects.filter(pk=deals[0].pk).update(owner=other_rep)  # around the services
    assert stage_owners_refresh() == 1
    assert stage_owners_refresh() == 0  # a second run changes nothing
    Opportunity.objects.filter(pk=deals[1].pk).update(owner=other_rep)
    assert dashboard_facts_rebuild_task.delay().get() == 1
    Opportunity.objects.filter(pk=deals[2].pk).update(owner=other_rep)
    call_command("dashboard_facts_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert_owners_kept(*deals)


def test_an_owner_change_is_one_statement_for_the_moves(manager, rep, coached, stages, django_assert_num_queries):
    deal = _create(rep, coached)
    services.opportunity_move(opportunity=deal, stage=stages["Qualified"], by=rep)
    colleague = factories.RepFactory(manager=manager)
    deal.refresh_from_db()
    # The new owner read, the deal's save, its history row, the moves' UPDATE, in the service's savepoint.
    with django_assert_num_queries(6):
        services.opportunity_update(opportunity=deal, by=manager, owner=colleague)
    assert_owners_kept(deal)
