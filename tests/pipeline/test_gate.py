"""Issue 15: the gate trusts only a real coach — a requirement per stage, override scope, the sweep."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from coaches import services as coach_services
from coaches.models import Coach, CoachRequirement, qualification_q
from pipeline import services
from pipeline.dashboard import dashboard_summary
from pipeline.models import GateSweep, Opportunity, Stage, StageChange
from pipeline.tasks import gate_sweep_task
from team.models import Notification
from tests import factories


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


@pytest.fixture
def deal(account, stages):
    return factories.OpportunityFactory(account=account, stage=stages["Qualified"])


def _informant(account, **fields):
    """A fabricated coach: an informant with all three criteria "no", as a rep can record him."""
    person = factories.person_at(account, contact__first_name="Fake", contact__last_name="Person")
    return factories.CoachFactory(
        account=account,
        contact=person,
        strength="informant",
        credible=False,
        trusts_us=False,
        wants_us_to_win=False,
        **fields,
    )


# --- the default requirement per stage ---------------------------------------------------------


def test_default_stages_require_qualified_then_verified_coaches(stages):
    assert {name: stage.coach_requirement for name, stage in stages.items()} == {
        "Lead": "none",
        "Qualified": "none",
        "Coach confirmed": "qualified",
        "Proposal": "verified",
        "Negotiation": "verified",
        "Won": "verified",
        "Lost": "none",
    }
    assert Stage.objects.before_gate() == stages["Qualified"]


# --- one qualification test ----------------------------------------------------------------------


@pytest.mark.parametrize("requirement", [r.value for r in CoachRequirement if r != CoachRequirement.NONE])
def test_the_row_test_and_the_set_test_agree(requirement, account):
    today = timezone.localdate()
    old = today - datetime.timedelta(days=200)
    coaches = [
        factories.CoachFactory(account=account),
        factories.CoachFactory(account=account, strength="champion", last_verified_on=old, established_on=old),
        factories.CoachFactory(account=account, trusts_us=False),
        factories.CoachFactory(account=account, strength="informant"),
        factories.CoachFactory(account=account, unconfirmed=True),
        factories.CoachFactory(account=account, status="lapsed"),
    ]
    in_set = set(Coach.objects.filter(qualification_q(requirement)).values_list("pk", flat=True))
    assert in_set == {c.pk for c in coaches if not c.missing_for(requirement)}


def test_missing_names_each_criterion_the_strength_and_the_verification(account):
    old = timezone.localdate() - datetime.timedelta(days=120)
    coach = _informant(account, established_on=old)
    assert coach.missing_for("active") == []
    assert coach.missing_for("qualified") == ["strength", "credible", "trusts_us", "wants_us_to_win"]
    assert coach.missing_for("verified")[-1] == "unverified"


# --- qualification per stage: through the service ---------------------------------------------


def test_a_fabricated_informant_opens_no_gate(rep, deal, stages):
    _informant(deal.account)
    with pytest.raises(services.GateError) as refused:
        services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    message = refused.value.messages[0]
    assert message == (
        "Coach confirmed needs a qualified coach: Fake Person is an informant; a coach must be credible with the "
        "buying influences, trust us and want us to win — verify the criteria."
    )
    assert refused.value.extra["requirement"] == "qualified"
    assert refused.value.extra["missing"] == ["strength", "credible", "trusts_us", "wants_us_to_win"]
    assert refused.value.verify_url.endswith(f"/coaches/{refused.value.coach.pk}/verify/")
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"] and deal.held_back


def test_one_missing_criterion_is_named_alone(rep, deal, stages):
    factories.CoachFactory(account=deal.account, strength="informant", wants_us_to_win=False)
    with pytest.raises(services.GateError) as refused:
        services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    assert ": " in refused.value.messages[0]
    assert refused.value.messages[0].endswith("is an informant; a coach must want us to win — verify the criteria.")


def test_an_active_coach_is_enough_where_the_stage_asks_only_that(rep, deal, stages):
    Stage.objects.filter(pk=stages["Coach confirmed"].pk).update(coach_requirement="active")
    _informant(deal.account)
    services.opportunity_move(opportunity=deal, stage=Stage.objects.get(name="Coach confirmed"), by=rep)
    deal.refresh_from_db()
    assert deal.stage == stages["Coach confirmed"]


def test_a_qualified_coach_whose_verification_expired_cannot_enter_proposal(rep, account, stages):
    old = timezone.localdate() - datetime.timedelta(days=91)
    factories.CoachFactory(account=account, established_on=old, last_verified_on=old)
    deal = factories.OpportunityFactory(account=account, stage=stages["Coach confirmed"])
    with pytest.raises(services.GateError) as refused:
        services.opportunity_move(opportunity=deal, stage=stages["Proposal"], by=rep)
    assert "not verified since" in refused.value.messages[0]
    assert refused.value.extra["missing"] == ["unverified"] and refused.value.extra["verified_on"] == old.isoformat()


def test_recording_a_coach_with_the_criteria_answered_verifies_him_that_day(rep, account):
    contact = factories.person_at(account)
    coach = coach_services.coach_record(
        by=rep, account=account, contact=contact, credible=True, trusts_us=True, wants_us_to_win=True
    )
    assert coach.last_verified_on == timezone.localdate()
    assert Coach.objects.qualifying("verified").filter(pk=coach.pk).exists()


def test_verifying_the_informant_lets_the_deal_move(rep, deal, stages):
    coach = _informant(deal.account)
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    coach_services.coach_verify(
        coach=coach, by=rep, strength="coach", credible=True, trusts_us=True, wants_us_to_win=True
    )
    deal.refresh_from_db()
    assert not deal.held_back  # released: he now meets what the refused stage required
    services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    deal.refresh_from_db()
    assert deal.stage == stages["Coach confirmed"]


def test_an_unqualified_coach_does_not_release_the_held_back_deal(rep, deal, stages):
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    _informant(deal.account)
    services.account_release_held_back(account=deal.account)
    deal.refresh_from_db()
    assert deal.held_back


def test_creating_a_deal_in_a_gated_stage_asks_the_same(rep, account, stages):
    _informant(account)
    with pytest.raises(services.GateError):
        services.opportunity_create(
            by=rep,
            account=account,
            name="Fleet",
            product_line=factories.ProductLineFactory(),
            amount=1,
            stage=stages["Coach confirmed"],
        )
    assert not Opportunity.objects.filter(name="Fleet").exists()


# --- override scope ------------------------------------------------------------------------------


def test_an_override_covers_the_one_stage_it_names(rep, manager, deal, stages):
    services.opportunity_override(opportunity=deal, stage=stages["Coach confirmed"], by=manager, reason="sponsor")
    for stage in ("Proposal", "Won"):
        with pytest.raises(services.GateError):
            services.opportunity_move(opportunity=deal, stage=stages[stage], by=rep)
    deal.refresh_from_db()
    assert deal.stage == stages["Coach confirmed"]
    services.opportunity_override(opportunity=deal, stage=stages["Proposal"], by=manager, reason="board sponsor")
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]
    overrides = deal.stage_changes.filter(kind=StageChange.Kind.OVERRIDE).order_by("at", "pk")
    assert [c.to_stage.name for c in overrides] == ["Coach confirmed", "Proposal"]


def test_an_overridden_deal_is_won_with_a_verified_coach(rep, manager, deal, stages):
    services.opportunity_override(opportunity=deal, stage=stages["Coach confirmed"], by=manager, reason="sponsor")
    factories.CoachFactory(account=deal.account)
    services.opportunity_move(opportunity=deal, stage=stages["Won"], by=rep)
    deal.refresh_from_db()
    assert deal.status == "won" and deal.had_coach_at_close is True


# --- the sweep -------------------------------------------------------------------------------------


def test_the_sweep_sends_back_what_fails_counts_per_reason_and_changes_nothing_twice(rep, manager, stages):
    old = timezone.localdate() - datetime.timedelta(days=100)
    nobody, fake, expired, good, overridden = (factories.AccountFactory(owner=rep) for _ in range(5))
    _informant(fake)
    factories.CoachFactory(account=expired, established_on=old, last_verified_on=old)
    factories.CoachFactory(account=good)
    deals = {
        "nobody": factories.OpportunityFactory(account=nobody, stage=stages["Coach confirmed"]),
        "fake": factories.OpportunityFactory(account=fake, stage=stages["Coach confirmed"]),
        "expired": factories.OpportunityFactory(account=expired, stage=stages["Negotiation"]),
        "expired_but_qualified": factories.OpportunityFactory(account=expired, stage=stages["Coach confirmed"]),
        "good": factories.OpportunityFactory(account=good, stage=stages["Negotiation"]),
        "before_gate": factories.OpportunityFactory(account=nobody, stage=stages["Qualified"]),
    }
    overridden_deal = factories.OpportunityFactory(account=overridden, stage=stages["Qualified"])
    services.opportunity_override(
        opportunity=overridden_deal, stage=stages["Coach confirmed"], by=manager, reason="sponsor"
    )
    Notification.objects.all().delete()

    sweep = services.gate_sweep()

    assert sweep.sent_back == 3
    assert sweep.reasons == {"no_coach": 1, "not_qualified": 1, "not_verified": 1}
    for deal in [*deals.values(), overridden_deal]:
        deal.refresh_from_db()
    assert {name for name, d in deals.items() if d.stage == stages["Qualified"]} == {
        "nobody",
        "fake",
        "expired",
        "before_gate",
    }
    assert deals["expired"].held_back and "not verified since" in deals["expired"].held_back_reason_display
    assert overridden_deal.stage == stages["Coach confirmed"]
    # One notice for the owner of the three deals, not one per deal.
    assert Notification.objects.filter(user=rep).count() == 1

    again = services.gate_sweep()
    assert (again.sent_back, again.reasons) == (0, {})
    assert StageChange.objects.filter(kind=StageChange.Kind.SENT_BACK).count() == 3
    assert Notification.objects.filter(user=rep).count() == 1
    assert GateSweep.objects.count() == 2


def test_the_sweep_is_set_based_the_same_statements_for_2_deals_as_for_20(stages):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def sweep_of(count: int) -> int:
        for _ in range(count):
            account = factories.AccountFactory(owner=factories.RepFactory())
            _informant(account)
            factories.OpportunityFactory(account=account, stage=stages["Proposal"])
        with CaptureQueriesContext(connection) as queries:
            sweep = services.gate_sweep()
        assert (sweep.sent_back, sweep.reasons) == (count, {"not_qualified": count})
        return len(queries)

    # One notice per owner, a move and a history row per deal: all in a fixed number of statements.
    assert sweep_of(2) == sweep_of(20)
    assert Notification.objects.count() == 22
    assert StageChange.objects.filter(kind=StageChange.Kind.SENT_BACK).count() == 22


def test_the_sweep_sends_back_after_a_stage_rule_changed_off_and_on(
    admin_user, rep, account, stages, django_capture_on_commit_callbacks
):
    proposal = stages["Proposal"]
    services.stage_update(stage=proposal, by=admin_user, coach_requirement="none")
    deal = factories.OpportunityFactory(account=account, stage=proposal)
    with django_capture_on_commit_callbacks(execute=True):
        services.stage_update(stage=proposal, by=admin_user, coach_requirement="verified")  # enqueues the sweep
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_the_sweep_catches_a_verification_that_expired(rep, account, stages):
    factories.CoachFactory(account=account)
    deal = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    assert services.gate_sweep().sent_back == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=91)):
        assert gate_sweep_task() == 1
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_stage_sweep_preview_counts_the_deals_a_stricter_requirement_sends_back(account, stages):
    factories.CoachFactory(account=account, strength="informant")
    factories.OpportunityFactory(account=account, stage=stages["Coach confirmed"])
    stage = stages["Coach confirmed"]
    assert services.stage_sweep_preview(stage=stage, requirement="active") == 0
    assert services.stage_sweep_preview(stage=stage, requirement="qualified") == 1
    assert services.stage_sweep_preview(stage=stage, requirement="none") == 0


def test_a_lost_stage_needs_no_coach(admin_user, stages):
    with pytest.raises(ValidationError) as refused:
        services.stage_update(stage=stages["Lost"], by=admin_user, coach_requirement="active")
    assert "coach_requirement" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.stage_update(stage=stages["Proposal"], by=admin_user, coach_requirement="sometimes")


# --- the dashboard counts only real coaches ------------------------------------------------------


def test_win_rates_count_a_fabricated_coach_as_no_coach(rep, manager, stages):
    real, fabricated = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=real)
    _informant(fabricated)
    won_real = factories.OpportunityFactory(account=real, stage=stages["Negotiation"])
    won_fake = factories.OpportunityFactory(account=fabricated, stage=stages["Qualified"])
    services.opportunity_move(opportunity=won_real, stage=stages["Won"], by=rep)
    # The fabricated coach cannot win it: an override carries it.
    services.opportunity_override(opportunity=won_fake, stage=stages["Won"], by=manager, reason="signed")
    won_real.refresh_from_db()
    won_fake.refresh_from_db()
    assert (won_real.had_coach_at_close, won_fake.had_coach_at_close) == (True, False)
    today = timezone.localdate()
    summary = dashboard_summary(
        user=manager, filters={"start": today - datetime.timedelta(days=1), "end": today, "owner": rep}
    )
    assert summary["win_rate"]["with_coach"]["won"] == 1
    assert summary["win_rate"]["without_coach"]["won"] == 1


# --- pages, API and admin ------------------------------------------------------------------------


def test_the_api_refusal_names_the_requirement_and_what_is_missing(token_client, rep, deal, stages):
    coach = _informant(deal.account)
    response = token_client(rep).post(
        f"/api/v1/opportunities/{deal.pk}/move/", {"stage": stages["Coach confirmed"].pk}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["requirement"], body["coach"]) == ("coach_required", "qualified", coach.pk)
    assert body["missing"] == ["strength", "credible", "trusts_us", "wants_us_to_win"]


def test_stages_expose_their_requirement(token_client, rep, stages):
    response = token_client(rep).get("/api/v1/stages/")
    rows = {row["name"]: row["coach_requirement"] for row in response.json()["results"]}
    assert (rows["Coach confirmed"], rows["Won"], rows["Lead"]) == ("qualified", "verified", "none")


def test_the_board_refusal_links_to_the_coachs_verify_form(rep_client, deal, stages):
    from django.urls import reverse

    coach = _informant(deal.account)
    response = rep_client.post(
        reverse("pipeline:opportunity-move", args=[deal.pk]),
        {"stage": stages["Coach confirmed"].pk},
        headers={"HX-Request": "true"},
    )
    assert b"a coach must be credible with the buying influences" in response.content
    assert reverse("coaches:coach-verify", args=[coach.pk]).encode() in response.content
    detail = rep_client.get(deal.get_absolute_url())
    assert reverse("coaches:coach-verify", args=[coach.pk]).encode() in detail.content


def test_the_win_page_refusal_names_the_lapsed_verification_and_links_to_the_verify_form(rep_client, account, stages):
    from django.urls import reverse

    old = timezone.localdate() - datetime.timedelta(days=100)
    coach = factories.CoachFactory(account=account, established_on=old, last_verified_on=old)
    deal = factories.OpportunityFactory(account=account, stage=stages["Negotiation"])
    response = rep_client.post(
        reverse("pipeline:opportunity-close", args=[deal.pk, stages["Won"].pk]), {"stage": stages["Won"].pk}
    )
    assert response.status_code == 200
    assert b"Won needs a verified coach" in response.content and b"was not verified since" in response.content
    assert reverse("coaches:coach-verify", args=[coach.pk]).encode() in response.content
    deal.refresh_from_db()
    assert deal.is_open and deal.stage == stages["Negotiation"] and deal.held_back


def test_needs_a_coach_leads_a_deal_held_back_for_an_unqualified_coach_to_his_verify_form(
    rep_client, rep, deal, stages
):
    from django.urls import reverse

    coach = _informant(deal.account)
    with pytest.raises(services.GateError):
        services.opportunity_move(opportunity=deal, stage=stages["Coach confirmed"], by=rep)
    page = rep_client.get(reverse("pipeline:opportunity-held-back")).content.decode()
    assert reverse("coaches:coach-verify", args=[coach.pk]) in page
    assert "Coach recorded: move it on" not in page


def test_the_stage_history_shows_what_an_override_covered(rep_client, manager, deal, stages):
    services.opportunity_override(opportunity=deal, stage=stages["Coach confirmed"], by=manager, reason="sponsor")
    response = rep_client.get(deal.get_absolute_url())
    assert b"Covers Coach confirmed only" in response.content


def test_the_admin_action_keeps_the_requirement(admin_client, deal, stages):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.urls import reverse

    _informant(deal.account)
    response = admin_client.post(
        reverse("admin:pipeline_opportunity_changelist"),
        {"action": f"move_to_stage_{stages['Coach confirmed'].pk}", ACTION_CHECKBOX_NAME: [deal.pk]},
        follow=True,
    )
    assert b"Fake Person is an informant" in response.content
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


def test_the_admin_stage_form_says_how_many_deals_go_back_before_saving(
    admin_client, account, stages, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    stage = stages["Coach confirmed"]
    Stage.objects.filter(pk=stage.pk).update(coach_requirement="active")
    factories.CoachFactory(account=account, strength="informant")
    deal = factories.OpportunityFactory(account=account, stage=stage)
    url = reverse("admin:pipeline_stage_change", args=[stage.pk])
    form = {
        "name": stage.name,
        "order": stage.order,
        "probability": stage.probability,
        "coach_requirement": "qualified",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200
    assert b"1 open deal in this stage lacks this coach" in response.content
    stage.refresh_from_db()
    assert stage.coach_requirement == "active"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {**form, "confirm_send_back": "on"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]
    assert GateSweep.objects.get().reasons == {"not_qualified": 1}


def test_managers_see_the_sweeps_last_run_and_reps_do_not(client, manager, rep, stages):
    from django.urls import reverse

    GateSweep.objects.create(sent_back=3, reasons={"no_coach": 1, "not_verified": 2})
    client.force_login(manager)
    page = client.get(reverse("pipeline:opportunity-held-back"))
    assert b"sent back 3 deals" in page.content and b"verification expired: 2" in page.content
    # The next hourly run finds nothing: the run that sent deals back stays in sight, with its reasons.
    GateSweep.objects.create(sent_back=0, reasons={})
    page = client.get(reverse("pipeline:opportunity-held-back")).content.decode()
    assert "sent back 0 deals" in page and "The last run that sent deals back" in page and ": 3 deals." in page
    assert "verification expired: 2" in page
    client.force_login(rep)
    assert b"gate-sweep" not in client.get(reverse("pipeline:opportunity-held-back")).content


def test_the_api_gives_managers_the_sweeps_last_run_and_the_last_that_sent_deals_back(token_client, manager, rep):
    from django.urls import reverse

    url = reverse("api:gate-sweep")
    assert token_client(manager).get(url).json() == {"last": None, "last_sending": None}
    GateSweep.objects.create(sent_back=3, reasons={"no_coach": 1, "not_verified": 2})
    GateSweep.objects.create(sent_back=0, reasons={})
    answer = token_client(manager).get(url).json()
    assert answer["last"]["sent_back"] == 0
    assert (answer["last_sending"]["sent_back"], answer["last_sending"]["reasons"]) == (
        3,
        {"no_coach": 1, "not_verified": 2},
    )
    refused = token_client(rep).get(url)
    assert refused.status_code == 403 and "managers and admins" in refused.json()["detail"]
