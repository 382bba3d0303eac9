import datetime

import pytest
from django.utils import timezone

from coaches import selectors
from pipeline import selectors as pipeline_selectors
from tests import factories


@pytest.fixture
def deal(rep):
    rep.selling_style = "expressive"
    rep.save()
    return factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))


@pytest.fixture
def coach(rep, deal):
    return factories.CoachFactory(account=deal.account, holder=rep)


def _maker(deal):
    return factories.OpportunityContactFactory(opportunity=deal, role="decision_maker").contact


def test_playbook_shows_the_card_of_the_decision_makers_current_style_and_flags_the_mismatch(rep, deal, coach):
    buyer = _maker(deal)
    factories.StyleReportFactory(coach=coach, contact=buyer, style="analytical", confidence="high")
    [entry] = pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)
    assert entry["contact"] == buyer and entry["report"].style == "analytical"
    assert entry["card"].style == "analytical" and "bring the numbers" in entry["card"].in_short
    assert entry["mismatch"]


def test_playbook_has_no_mismatch_when_the_owner_sells_in_the_buyers_style(rep, deal, coach):
    buyer = _maker(deal)
    factories.StyleReportFactory(coach=coach, contact=buyer, style="expressive")
    [entry] = pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)
    assert entry["card"].style == "expressive" and not entry["mismatch"]


def test_playbook_has_no_mismatch_while_the_owners_style_is_unknown(rep, deal, coach):
    rep.selling_style = "unknown"
    rep.save()
    factories.StyleReportFactory(coach=coach, contact=_maker(deal), style="driver")
    [entry] = pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)
    assert entry["card"].style == "driver" and not entry["mismatch"]


def test_the_current_style_is_the_latest_high_confidence_report(rep, deal, coach):
    buyer = _maker(deal)
    today = timezone.localdate()
    factories.StyleReportFactory(
        coach=coach, contact=buyer, style="driver", reported_on=today - datetime.timedelta(days=9)
    )
    factories.StyleReportFactory(
        coach=coach, contact=buyer, style="amiable", reported_on=today - datetime.timedelta(days=5)
    )
    factories.StyleReportFactory(coach=coach, contact=buyer, style="analytical", confidence="medium", reported_on=today)
    [entry] = pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)
    assert entry["report"].style == "amiable"
    history = selectors.contact_style_reports(contact=buyer, user=rep)
    assert [r.style for r in history] == ["analytical", "amiable", "driver"]
    assert [r.is_current for r in history] == [False, True, False]


def test_without_a_high_confidence_report_the_card_asks_the_coach(rep, deal, coach):
    buyer = _maker(deal)
    factories.StyleReportFactory(coach=coach, contact=buyer, style="driver", confidence="low")
    [entry] = pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)
    assert entry["report"] is None and entry["card"].style == "unknown" and not entry["mismatch"]
    assert "Ask the coach" in entry["card"].ask


def test_playbook_lists_decision_makers_only(rep, deal):
    factories.OpportunityContactFactory(opportunity=deal, role="technical_evaluator")
    assert pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep) == []
    maker = _maker(deal)
    assert [e["contact"] for e in pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)] == [maker]


def test_style_reports_are_seen_only_by_who_may_see_the_reporting_coach(rep, other_rep, manager, deal, coach):
    buyer = _maker(deal)
    factories.StyleReportFactory(coach=coach, contact=buyer, style="driver")
    # other_rep owns nothing here and holds no coach; he sees neither the report nor the style.
    assert selectors.contact_style_reports(contact=buyer, user=other_rep) == []
    assert selectors.current_styles(contact_ids=[buyer.pk], user=other_rep) == {}
    assert len(selectors.contact_style_reports(contact=buyer, user=manager)) == 1
    assert len(selectors.contact_style_reports(contact=buyer, user=factories.AdminFactory())) == 1
    assert len(selectors.contact_style_reports(contact=buyer, user=factories.ManagerFactory())) == 0


def test_playbook_costs_three_queries_however_many_decision_makers(rep, deal, coach, django_assert_num_queries):
    for _ in range(5):
        factories.StyleReportFactory(coach=coach, contact=_maker(deal))
    deal = type(deal).objects.select_related("owner").get(pk=deal.pk)
    # decision makers with their contacts, their styles (with the reporting coach), the cards:
    # per-person queries for styles or cards would grow with the list.
    with django_assert_num_queries(3):
        pipeline_selectors.opportunity_playbook(opportunity=deal, user=rep)


def test_moved_coaches_share_counts_contacted_moves_in_the_window(rep, stages):
    today = timezone.localdate()
    for days, contacted in [(5, True), (40, False), (80, True), (120, True)]:
        move = factories.CoachMoveFactory(old_coach__holder=rep, start_date=today - datetime.timedelta(days=days))
        if contacted:
            factories.InteractionFactory(coach=move.new_coach, user=rep)
    summary = selectors.coach_move_summary(user=rep)
    assert summary == {"total": 3, "contacted": 2, "share": 2 / 3, "healthy": True}
    assert selectors.coach_move_list(user=rep).count() == 3


def test_moved_coaches_list_puts_past_buyers_first_and_hides_others_moves(rep, other_rep, stages):
    today = timezone.localdate()
    recent = factories.CoachMoveFactory(old_coach__holder=rep, start_date=today)
    buyer = factories.CoachMoveFactory(
        old_coach__holder=rep, start_date=today - datetime.timedelta(days=30), contact__past_buyer=True
    )
    factories.CoachMoveFactory(old_coach__holder=other_rep)
    assert list(selectors.coach_move_list(user=rep)) == [buyer, recent]
    assert selectors.coach_move_summary(user=rep)["healthy"] is False
