"""Deals imported from HubSpot and Salesforce exports, through the coach gate."""

import datetime
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from csvio import services
from pipeline.models import Opportunity, StageChange
from tests import factories

FIXTURES = Path(__file__).parent.parent / "csvio" / "fixtures"


@pytest.fixture
def setup(db, settings):
    settings.CRM_CURRENCY = "EUR"
    stages = factories.default_stages()
    factories.ProductLineFactory(name="Analytics")
    alice = factories.RepFactory(username="alice", first_name="Alice", last_name="Rep", email="alice@crm.example")
    admin = factories.AdminFactory(username="admin")
    accounts = {
        name: factories.AccountFactory(name=name, owner=alice)
        for name in ("Borealis Bank", "Cedar Health", "Pioneer Steel", "Evergreen Foods", "Fjord Insurance")
    }
    # Coaches at Borealis and Evergreen (since 2025), and at Pioneer Steel only since 2026.
    for name, since in (
        ("Borealis Bank", "2025-01-10"),
        ("Evergreen Foods", "2025-03-01"),
        ("Pioneer Steel", "2026-01-05"),
    ):
        # Qualified and verified today, so they open every gated stage (the gate's rule, issue 15).
        factories.CoachFactory(
            account=accounts[name],
            established_on=datetime.date.fromisoformat(since),
            strength="coach",
            credible=True,
            trusts_us=True,
            wants_us_to_win=True,
            last_verified_on=timezone.localdate(),
        )
    return {"alice": alice, "admin": admin, "accounts": accounts, "stages": stages}


def _upload(user, name):
    data = (FIXTURES / name).read_bytes()
    return services.import_batch_create(by=user, kind="deals", filename=name, data=data)


def _rows(batch):
    return [(r["label"], r["outcome"], r["detail"]) for r in batch.report["rows"]]


@time_machine.travel("2026-06-15 10:00 +00:00")
def test_hubspot_deals_import_through_the_gate(setup):
    batch = _upload(setup["alice"], "hubspot-deals.csv")
    assert batch.report["layout"] == "hubspot-deals"
    assert batch.report["defaults"] == {"product_line": "Analytics"}
    stages = {v["value"]: v["match"] for v in batch.report["values"]["stage"]["found"]}
    assert stages == {
        "Presentation Scheduled": "Proposal",
        "Qualified To Buy": "Qualified",
        "Closed Won": "Won",
        "Closed Lost": "Lost",
    }
    assert _rows(batch) == [
        ("Borealis Bank - analytics rollout", "created", "Will create (HubSpot 7001)."),
        ("Cedar Health - support renewal", "created", "Will create (HubSpot 7002)."),
        ("Pioneer Steel - pilot", "created", "Will create (HubSpot 7003)."),
        ("Cedar Health - data platform", "created", "Will create (HubSpot 7004)."),
    ]
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    deals = {o.name: o for o in Opportunity.objects.select_related("stage")}
    rollout = deals["Borealis Bank - analytics rollout"]
    assert (rollout.stage.name, rollout.held_back, rollout.amount, str(rollout.expected_close)) == (
        "Proposal",
        False,
        48000,
        "2026-09-30",
    )
    assert rollout.created_at.date() == datetime.date(2026, 1, 12)
    assert deals["Cedar Health - support renewal"].amount == 12500
    # Won in November 2025, before the coach at Pioneer Steel was recorded.
    pilot = deals["Pioneer Steel - pilot"]
    assert (pilot.status, pilot.closed_at.date(), pilot.had_coach_at_close) == (
        "won",
        datetime.date(2025, 11, 20),
        False,
    )
    assert list(pilot.stage_changes.order_by("at").values_list("to_stage__name", flat=True)) == ["Lead", "Won"]
    lost = deals["Cedar Health - data platform"]
    assert (lost.status, lost.had_coach_at_close) == ("lost", False)
    # A second import of the same export changes nothing.
    again = _upload(setup["alice"], "hubspot-deals.csv")
    assert {r["outcome"] for r in again.report["rows"]} == {"duplicate"}


@time_machine.travel("2026-06-15 10:00 +00:00")
def test_salesforce_opportunities_report_holds_back_a_deal_without_a_coach(setup):
    batch = _upload(setup["alice"], "salesforce-opportunities-report.csv")
    assert batch.report["layout"] == "salesforce-opportunities-report"
    assert _rows(batch) == [
        ("Evergreen - cloud migration", "created", ""),
        ("Fjord - analytics", "created", ""),
        ("Evergreen - support 2025", "created", ""),
    ]
    assert batch.report["ok"]
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    won = Opportunity.objects.get(name="Evergreen - support 2025")
    assert (won.status, won.closed_at.date(), won.had_coach_at_close) == ("won", datetime.date(2025, 12, 15), True)
    assert Opportunity.objects.get(name="Evergreen - cloud migration").stage.name == "Proposal"


@time_machine.travel("2026-06-15 10:00 +00:00")
def test_data_loader_opportunities_held_back_row_by_row(setup):
    factories.CoachFactory(account=setup["accounts"]["Fjord Insurance"])
    setup["accounts"]["Evergreen Foods"].coaches.update(status="ended")
    batch = _upload(setup["admin"], "salesforce-opportunities-dataloader.csv")
    assert batch.report["layout"] == "salesforce-opportunities-api"
    assert _rows(batch)[0] == (
        "Evergreen - loyalty analytics",
        "created",
        "Will create (Salesforce 0065g00000B2cDeAAF). Will be held back: no coach at Evergreen Foods.",
    )
    services.import_batch_confirm(batch=batch, by=setup["admin"])
    held = Opportunity.objects.get(name="Evergreen - loyalty analytics")
    # Negotiation is past the gate: imported into the last stage before it, waiting for a coach.
    assert (held.stage.name, held.held_back, held.owner) == ("Qualified", True, setup["alice"])
    assert held.stage_changes.get().kind == StageChange.Kind.ADVANCE


def test_a_foreign_currency_is_a_row_error(setup):
    text = "name,account,product_line,amount,currency,stage\nBig deal,Cedar Health,Analytics,1000,USD,Lead\n"
    batch = services.import_batch_create(by=setup["alice"], kind="deals", filename="d.csv", data=text.encode())
    assert [(r["outcome"], r["column"]) for r in batch.report["rows"]] == [("error", "currency")]
    assert "kept in EUR" in batch.report["rows"][0]["detail"]


def test_an_account_out_of_scope_is_a_row_error(setup):
    factories.AccountFactory(name="Theirs Ltd", owner=factories.RepFactory())
    text = "name,account,amount,stage\nBig deal,Theirs Ltd,1000,Lead\n"
    batch = services.import_batch_create(by=setup["alice"], kind="deals", filename="d.csv", data=text.encode())
    assert [(r["outcome"], r["column"]) for r in batch.report["rows"]] == [("error", "account")]


def test_the_dry_run_says_a_deal_is_held_back_when_the_coach_does_not_meet_the_stage(setup):
    # An active coach who is only an informant: the gate refuses Proposal (a verified coach), and the dry run says so.
    factories.CoachFactory(account=setup["accounts"]["Cedar Health"], strength="informant")
    text = "name,account,product_line,amount,stage\nCedar pilot,Cedar Health,Analytics,1000,Proposal\n"
    batch = services.import_batch_create(by=setup["alice"], kind="deals", filename="d.csv", data=text.encode())
    assert _rows(batch) == [
        ("Cedar pilot", "created", "Will be held back: Proposal needs a verified coach at Cedar Health."),
    ]
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    held = Opportunity.objects.get(name="Cedar pilot")
    assert (held.stage.name, held.held_back) == ("Qualified", True)
