from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coaches.models import Coach
from pipeline import services
from pipeline.models import Opportunity, Stage, StageChange
from pipeline.tasks import account_send_back_task
from team.models import Notification
from tests import factories


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


@pytest.fixture
def deal(account, stages):
    return factories.OpportunityFactory(account=account, stage=stages["Qualified"])


def test_opportunity_create_starts_in_the_first_stage_and_logs_it(rep, account, stages):
    deal = services.opportunity_create(
        by=rep, account=account, name=" Fleet ", product_line=factories.ProductLineFactory(), amount=Decimal("500")
    )
    assert (deal.name, deal.stage, deal.owner, deal.status, deal.currency) == (
        "Fleet",
        stages["Lead"],
        rep,
        "open",
        "EUR",
    )
    change = deal.stage_changes.get()
    assert (change.from_stage, change.to_stage, change.by) == (None, stages["Lead"], rep)


def test_opportunity_create_by_rep_ignores_another_owner_but_manager_may_name_one(rep, manager, account, stages):
    line = factories.ProductLineFactory()
    mine = services.opportunity_create(by=rep, account=account, name="a", product_line=line, amount=1, owner=manager)
    assert mine.owner == rep
    theirs = services.opportunity_create(by=manager, account=account, name="b", product_line=line, amount=1, owner=rep)
    assert theirs.owner == rep


def test_opportunity_create_in_a_gated_stage_needs_a_coach(rep, account, stages):
    line = factories.ProductLineFactory()
    with pytest.raises(services.GateError) as excinfo:
        services.opportunity_create(
            by=rep, account=account, name="x", product_line=line, amount=1, stage=stages["Proposal"]
        )
    assert excinfo.value.account == account
    assert not Opportunity.objects.exists()
    factories.CoachFactory(account=account)
    deal = services.opportunity_create(
        by=rep, account=account, name="x", product_line=line, amount=1, stage=stages["Proposal"]
    )
    assert deal.stage == stages["Proposal"]


@pytest.mark.parametrize(("stage", "amount", "field"), [("Won", 1, "stage"), ("Lead", -1, "amount")])
def test_opportunity_create_refuses_closed_stages_and_negative_amounts(rep, account, stages, stage, amount, field):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_create(
            by=rep, account=account, name="x", product_line=factories.ProductLineFactory(), amount=amount,
            stage=stages[stage],
        )  # fmt: skip
    assert field in excinfo.value.message_dict
    assert not Opportunity.objects.exists()


def test_opportunity_update_changes_fields_but_never_the_stage(rep, deal, stages):
    services.opportunity_update(opportunity=deal, by=rep, name="Renamed", amount=Decimal("7"))
    deal.refresh_from_db()
    assert (deal.name, deal.amount) == ("Renamed", Decimal("7"))
    with pytest.raises(ValidationError, match="only by moving"):
        services.opportunity_update(opportunity=deal, by=rep, stage=stages["Proposal"])
    with pytest.raises(ValidationError):
        services.opportunity_update(opportunity=deal, by=rep, amount=Decimal("-1"))
    deal.refresh_from_db()
    assert (deal.stage, deal.amount) == (stages["Qualified"], Decimal("7"))


def test_opportunity_update_by_rep_keeps_the_owner(rep, other_rep, deal):
    services.opportunity_update(opportunity=deal, by=rep, owner=other_rep)
    deal.refresh_from_db()
    assert deal.owner == rep


def test_move_within_ungated_stages_needs_no_coach(rep, deal, stages):
    change = services.opportunity_move(opportunity=deal, stage=stages["Lead"], by=rep, reason="cooling")
    assert (change.kind, change.from_stage, change.to_stage, change.reason) == (
        "back",
        stages["Qualified"],
        stages["Lead"],
        "cooling",
    )
    assert deal.stage == stages["Lead"]


def test_move_into_a_gated_stage_without_coach_is_refused_and_holds_back(rep, deal, stages):
    with pytest.raises(services.GateError) as excinfo:
        services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    assert "needs a qualified coach" in excinfo.value.messages[0]
    assert excinfo.value.record_coach_url.endswith(f"?account={deal.account_id}")
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]
    assert deal.held_back and "needs a qualified coach" in deal.held_back_reason_display and deal.held_back_since
    assert deal.held_back_facts == {
        "kind": "gate",
        "stage": "Coach confirmed",
        "account": deal.account.name,
        "requirement": "qualified",
        "coach": None,
        "coach_id": None,
        "missing": [],
        "verified_on": None,
    }
    assert not deal.stage_changes.exists()


def test_a_second_refusal_keeps_the_first_held_back_date(rep, deal, stages):
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Proposal"], by=rep)
    first = Opportunity.objects.get(pk=deal.pk).held_back_since
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Negotiation"], by=rep)
    deal.refresh_from_db()
    assert deal.held_back_since == first
    assert "Negotiation" in deal.held_back_reason_display


def test_a_lapsed_coach_does_not_open_the_gate(rep, deal, stages):
    factories.CoachFactory(account=deal.account, status=Coach.Status.LAPSED)
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Proposal"], by=rep)


def test_move_past_the_gate_with_an_active_coach_advances_and_clears_held_back(rep, deal, stages):
    deal.held_back = True
    deal.save()
    factories.CoachFactory(account=deal.account)
    change = services.opportunity_move(opportunity=deal, stage=stages["Proposal"], by=rep)
    deal.refresh_from_db()
    assert change.kind == StageChange.Kind.ADVANCE
    assert deal.stage == stages["Proposal"] and not deal.held_back


def test_winning_needs_a_coach_even_from_an_ungated_stage(rep, deal, stages):
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Won"], by=rep)
    deal.refresh_from_db()
    assert deal.status == Opportunity.Status.OPEN


def test_winning_records_that_the_account_had_a_coach(rep, deal, stages):
    factories.CoachFactory(account=deal.account)
    services.opportunity_move(opportunity=deal, stage=stages["Won"], by=rep)
    deal.refresh_from_db()
    assert (deal.status, deal.had_coach_at_close) == ("won", True)
    assert deal.closed_at is not None


def test_losing_needs_no_coach_and_records_there_was_none(rep, deal, stages):
    services.opportunity_move(opportunity=deal, stage=stages["Lost"], by=rep)
    deal.refresh_from_db()
    assert (deal.status, deal.had_coach_at_close) == ("lost", False)


def test_closed_deals_and_same_stage_moves_are_refused(rep, deal, stages):
    with pytest.raises(ValidationError, match="already in Qualified"):
        services.opportunity_move(opportunity=deal, stage=stages["Qualified"], by=rep)
    services.opportunity_move(opportunity=deal, stage=stages["Lost"], by=rep)
    with pytest.raises(ValidationError, match="closed"):
        services.opportunity_move(opportunity=deal, stage=stages["Lead"], by=rep)
    assert deal.stage_changes.count() == 1


def test_a_gate_set_up_by_the_admin_on_any_stage_is_kept(rep, deal, stages):
    Stage.objects.filter(pk=stages["Lead"].pk).update(coach_requirement="active")
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=Stage.objects.get(name="Lead"), by=rep)


def test_override_is_forbidden_to_reps(rep, deal, stages):
    with pytest.raises(ValidationError, match="Only the owner's manager or an admin"):
        services.opportunity_override(opportunity=deal, stage=stages["Proposal"], by=rep, reason="trust me")
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_override_is_forbidden_to_another_team_manager(deal, stages):
    with pytest.raises(ValidationError):
        services.opportunity_override(
            opportunity=deal, stage=stages["Proposal"], by=factories.ManagerFactory(), reason="x"
        )


def test_override_needs_a_reason_and_a_gated_stage(manager, deal, stages):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_override(opportunity=deal, stage=stages["Proposal"], by=manager, reason=" ")
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_override(opportunity=deal, stage=stages["Lead"], by=manager, reason="x")
    assert "stage" in excinfo.value.message_dict


def test_override_by_the_manager_passes_the_gate_logs_and_tells_the_owner(rep, manager, deal, stages):
    deal.held_back = True
    deal.save()
    change = services.opportunity_override(
        opportunity=deal, stage=stages["Proposal"], by=manager, reason="CEO sponsor known"
    )
    deal.refresh_from_db()
    assert (change.kind, change.by, change.reason) == ("override", manager, "CEO sponsor known")
    assert deal.stage == stages["Proposal"] and not deal.held_back
    assert "past the coach gate" in Notification.objects.get(user=rep).message
    # The override covers Proposal only (issue 15): Negotiation needs a verified coach or a new override.
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Negotiation"], by=rep)
    services.opportunity_override(opportunity=deal, stage=stages["Won"], by=manager, reason="signed anyway")
    deal.refresh_from_db()
    assert (deal.status, deal.had_coach_at_close) == ("won", False)


def test_admin_may_override(admin_user, deal, stages):
    services.opportunity_override(opportunity=deal, stage=stages["Won"], by=admin_user, reason="signed")
    assert deal.status == "won"


def test_send_back_moves_gated_deals_before_the_gate_and_is_idempotent(rep, account, stages):
    proposal = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    negotiation = factories.OpportunityFactory(account=account, stage=stages["Negotiation"])
    qualified = factories.OpportunityFactory(account=account, stage=stages["Qualified"])
    won = factories.OpportunityFactory(account=account, stage=stages["Won"], status="won")
    elsewhere = factories.OpportunityFactory(stage=stages["Proposal"])

    assert services.account_send_back(account_id=account.pk) == 2
    for deal in (proposal, negotiation, qualified, won, elsewhere):
        deal.refresh_from_db()
    assert proposal.stage == negotiation.stage == stages["Qualified"]
    assert proposal.held_back and "needs a verified coach" in proposal.held_back_reason_display
    assert proposal.stage_changes.first().reason_display.startswith(f"Proposal needs a verified coach at {account},")
    assert qualified.stage_changes.count() == 0
    assert won.stage == stages["Won"] and elsewhere.stage == stages["Proposal"]
    # One notice per owner and send-back, however many of his deals went back (issue 15).
    assert Notification.objects.filter(user=rep).count() == 1

    assert services.account_send_back(account_id=account.pk) == 0
    assert StageChange.objects.filter(kind=StageChange.Kind.SENT_BACK).count() == 2
    assert Notification.objects.filter(user=rep).count() == 1


def test_send_back_does_nothing_while_the_account_has_an_active_coach(account, stages):
    deal = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    factories.CoachFactory(account=account)
    assert services.account_send_back(account_id=account.pk) == 0
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]


def test_send_back_keeps_a_live_override_but_not_one_for_another_stage(rep, manager, deal, stages):
    # Issue 15: an override holds for the stage it names (it was given for want of a coach),
    # and only there: a deal that moved on from it stands without one.
    services.opportunity_override(opportunity=deal, stage=stages["Proposal"], by=manager, reason="sponsor")
    assert services.account_send_back(account_id=deal.account_id) == 0
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]
    services.opportunity_move(opportunity=deal, stage=stages["Qualified"], by=rep)
    services.opportunity_move(opportunity=deal, stage=stages["Proposal"], by=rep)  # the override still names it
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Negotiation"], by=rep)


def test_send_back_of_a_missing_account_is_a_no_op(db):
    assert services.account_send_back(account_id=987654) == 0


def test_send_back_task_calls_the_service_by_id(account, stages):
    deal = factories.OpportunityFactory(account=account, stage=stages["Negotiation"])
    assert account_send_back_task.delay(account.pk).get() == 1
    assert account_send_back_task.delay(account.pk).get() == 0
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_release_held_back_clears_only_that_accounts_open_deals(rep, account, stages):
    factories.CoachFactory(account=account)
    held = factories.OpportunityFactory(account=account, held_back=True)
    other = factories.OpportunityFactory(held_back=True)
    assert services.account_release_held_back(account=account) == 1
    held.refresh_from_db()
    other.refresh_from_db()
    assert not held.held_back and other.held_back


def test_before_gate_is_the_last_open_stage_before_the_first_gated_one(stages):
    assert Stage.objects.before_gate() == stages["Qualified"]


def test_stage_create_and_update_by_an_admin(admin_user, stages):
    from pipeline.services import stage_create, stage_update

    stage = stage_create(by=admin_user, name=" Discovery ", order=15, probability=15)
    assert (stage.name, stage.coach_requirement) == ("Discovery", "none")
    stage_update(stage=stage, by=admin_user, coach_requirement="active", probability=30)
    stage.refresh_from_db()
    assert (stage.coach_requirement, stage.probability) == ("active", 30)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Lead", "order": 99, "probability": 5}, "name"),
        ({"name": "New", "order": 10, "probability": 5}, "order"),
        ({"name": "New", "order": 99, "probability": 101}, "probability"),
        ({"name": "New", "order": 99, "probability": 5, "is_won": True, "is_lost": True}, "is_lost"),
        ({"name": "  ", "order": 99, "probability": 5}, "name"),
    ],
)
def test_stage_create_refuses_bad_stages(admin_user, stages, fields, field):
    from pipeline.models import Stage
    from pipeline.services import stage_create

    before = Stage.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        stage_create(by=admin_user, **fields)
    assert field in excinfo.value.error_dict
    assert Stage.objects.count() == before


def test_stage_edits_are_for_admins_only(manager, stages):
    from pipeline.services import stage_update

    with pytest.raises(ValidationError, match="Only an admin"):
        stage_update(stage=stages["Lead"], by=manager, probability=50)
