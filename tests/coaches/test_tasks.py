"""A coach moves: contact_move ends the coach record, and coach_moved_task opens the prospect once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import formats, timezone

from accounts.models import ProductLine
from accounts.services import contact_move
from coaches.models import Coach, CoachMove
from pipeline.models import Opportunity, StageChange
from pipeline.tasks import coach_moved_task
from team.models import Notification
from tests import factories

START = datetime.date.today() - datetime.timedelta(days=5)


@pytest.fixture
def coach(rep, stages):
    account = factories.AccountFactory(owner=rep, name="Old Works")
    contact = factories.person_at(account, contact__first_name="Ada", contact__last_name="Lind")
    factories.ProductLineFactory(name="Cloud")
    coach = factories.CoachFactory(account=account, contact=contact, holder=rep)
    coach.established_on = timezone.localdate() - datetime.timedelta(days=300)
    coach.save()
    return coach


def _move(coach, by, capture, **kwargs):
    kwargs.setdefault("new_account_name", "Blue Harbour")
    with capture(execute=True):
        return contact_move(contact=coach.contact, by=by, title="CIO", start_date=START, **kwargs)


def test_a_coach_moving_ends_the_record_and_opens_one_prospect_in_the_first_stage(
    rep, coach, stages, django_capture_on_commit_callbacks
):
    result = _move(coach, rep, django_capture_on_commit_callbacks)
    coach.refresh_from_db()
    assert result.coach_ended
    assert coach.status == Coach.Status.ENDED and coach.status_reason_display == "moved to Blue Harbour"
    assert coach.status_facts == {"kind": "moved", "account": "Blue Harbour"}
    move = CoachMove.objects.get()
    prospect = move.opportunity
    assert (move.contact, move.from_account, move.to_account) == (coach.contact, coach.account, prospect.account)
    assert prospect.account.name == "Blue Harbour" and prospect.stage == stages["Lead"] and prospect.amount == 0
    assert prospect.name == "Blue Harbour via Ada Lind"
    assert prospect.stage_changes.get().kind == StageChange.Kind.ADVANCE


def test_the_prospect_at_a_new_company_goes_to_the_coachs_primary_holder(
    rep, manager, coach, django_capture_on_commit_callbacks
):
    second = factories.RepFactory(manager=manager)
    factories.HolderFactory(coach=coach, user=second)
    _move(coach, manager, django_capture_on_commit_callbacks)  # the manager records it; the account is his
    assert Opportunity.objects.get().owner == rep


def test_the_prospect_at_an_existing_account_goes_to_its_owner(
    rep, other_rep, coach, django_capture_on_commit_callbacks
):
    target = factories.AccountFactory(owner=other_rep, name="Nordlicht")
    _move(coach, rep, django_capture_on_commit_callbacks, new_account_name="", new_account=target)
    prospect = Opportunity.objects.get()
    assert prospect.account == target and prospect.owner == other_rep
    # The new owner and the holder are both told.
    assert Notification.objects.filter(user=other_rep, message__contains="moved to Nordlicht").exists()
    assert Notification.objects.filter(user=rep, message__contains="moved to Nordlicht").exists()


def test_a_candidate_coach_record_carries_the_holders_over(rep, manager, coach, django_capture_on_commit_callbacks):
    second = factories.RepFactory(manager=manager)
    factories.HolderFactory(coach=coach, user=second)
    gone = factories.RepFactory(manager=manager, is_active=False)
    factories.HolderFactory(coach=coach, user=gone)
    _move(coach, rep, django_capture_on_commit_callbacks)
    candidate = CoachMove.objects.get().new_coach
    assert candidate.account.name == "Blue Harbour" and candidate.is_active
    assert candidate.strength == Coach.Strength.INFORMANT and not candidate.credible
    holders = {h.user: h.is_primary for h in candidate.holders.all()}
    assert holders == {rep: True, second: False}  # a deactivated holder is not carried over
    assert Notification.objects.filter(user=second, message__contains="moved to Blue Harbour").count() == 1


def test_the_provenance_names_the_old_company_and_the_deals_won_with_the_coach(
    rep, coach, stages, django_capture_on_commit_callbacks
):
    now = timezone.now()
    factories.OpportunityFactory(
        account=coach.account, name="Fleet renewal", stage=stages["Won"], status="won", closed_at=now
    )
    before = factories.OpportunityFactory(
        account=coach.account, name="Before his time", stage=stages["Won"], status="won"
    )
    before.closed_at = now - datetime.timedelta(days=400)
    before.save()
    elsewhere = factories.OpportunityFactory(name="Grid upgrade", stage=stages["Won"], status="won", closed_at=now)
    factories.OpportunityContactFactory(opportunity=elsewhere, contact=coach.contact, role="economic_buyer")
    factories.OpportunityFactory(account=coach.account, name="Still open")
    _move(coach, rep, django_capture_on_commit_callbacks)
    source = Opportunity.objects.get(account__name="Blue Harbour").source_display
    since = formats.date_format(coach.established_on, "SHORT_DATE_FORMAT")
    assert source.startswith(f"Former coach at Old Works (since {since}); deals won with them: ")
    assert "Fleet renewal" in source and "Grid upgrade" in source
    assert "Before his time" not in source and "Still open" not in source
    coach.contact.refresh_from_db()
    assert coach.contact.past_buyer


def test_a_coach_without_won_deals_is_not_a_past_buyer(rep, coach, django_capture_on_commit_callbacks):
    _move(coach, rep, django_capture_on_commit_callbacks)
    coach.contact.refresh_from_db()
    assert not coach.contact.past_buyer
    assert Opportunity.objects.get().source_display.endswith("deals won with them: none yet.")


def test_coach_moved_task_run_twice_makes_one_prospect(rep, coach, django_capture_on_commit_callbacks):
    _move(coach, rep, django_capture_on_commit_callbacks)
    move = CoachMove.objects.get()
    notices = Notification.objects.count()
    again = coach_moved_task(
        old_coach_id=coach.pk, to_account_id=move.to_account_id, start_date=START.isoformat(), account_created=True
    )
    assert again is None
    assert CoachMove.objects.count() == 1 and Opportunity.objects.count() == 1
    assert Coach.objects.filter(account=move.to_account).count() == 1
    assert Notification.objects.count() == notices


def test_the_old_accounts_gated_deals_go_back_when_he_was_its_only_coach(
    rep, coach, stages, django_capture_on_commit_callbacks
):
    deal = factories.OpportunityFactory(account=coach.account, stage=stages["Proposal"])
    _move(coach, rep, django_capture_on_commit_callbacks)
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"] and deal.held_back
    assert "at Old Works, and there is none" in deal.held_back_reason_display


def test_a_lapsed_coach_moving_opens_no_prospect(rep, coach, django_capture_on_commit_callbacks):
    Coach.objects.filter(pk=coach.pk).update(status=Coach.Status.LAPSED)
    result = _move(coach, rep, django_capture_on_commit_callbacks)
    assert not result.coach_ended and not CoachMove.objects.exists() and not Opportunity.objects.exists()


def test_the_task_opens_no_candidate_record_if_he_moved_on_again_meanwhile(rep, coach, stages):
    target = factories.AccountFactory(name="Blue Harbour")
    # The task has not run yet (a worker was down); meanwhile the person moved on again.
    contact_move(contact=coach.contact, by=rep, new_account=target, title="CIO", start_date=START)
    contact_move(
        contact=coach.contact,
        by=rep,
        new_account_name="Green Field",
        title="CEO",
        start_date=START + datetime.timedelta(days=2),
    )
    coach_moved_task(
        old_coach_id=coach.pk, to_account_id=target.pk, start_date=START.isoformat(), account_created=False
    )
    move = CoachMove.objects.get()
    assert move.opportunity.account == target and move.new_coach is None


def test_a_coach_move_without_any_product_line_is_refused_whole(rep, coach, django_capture_on_commit_callbacks):
    ProductLine.objects.all().delete()
    with pytest.raises(ValidationError, match="needs a product line"):
        _move(coach, rep, django_capture_on_commit_callbacks)
    coach.refresh_from_db()
    assert coach.is_active and coach.contact.employments.get().end_date is None
