"""Touch cadence: the default by strength, a coach's own cadence, and the next touch due it derives."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from coaches import selectors, services
from coaches.models import Coach
from tests import factories

MONDAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    return MONDAY.date()


@pytest.mark.parametrize(("strength", "days"), [("champion", 14), ("coach", 21), ("informant", 30)])
def test_coach_record_sets_next_touch_due_by_the_strengths_default(rep, frozen, strength, days):
    account = factories.AccountFactory(owner=rep)
    coach = services.coach_record(by=rep, account=account, contact=factories.person_at(account), strength=strength)
    assert coach.cadence == days
    assert coach.next_touch_due == frozen + datetime.timedelta(days=days)


def test_interaction_log_moves_the_next_touch_from_the_newest_touch(rep, frozen):
    coach = factories.CoachFactory(holder=rep, strength="champion", established_on=frozen - datetime.timedelta(days=40))
    assert coach.is_touch_overdue
    services.interaction_log(coach=coach, by=rep, kind="call", occurred_on=frozen - datetime.timedelta(days=3))
    coach.refresh_from_db()
    assert coach.next_touch_due == frozen + datetime.timedelta(days=11)
    # An older touch logged late does not move it back.
    services.interaction_log(coach=coach, by=rep, kind="call", occurred_on=frozen - datetime.timedelta(days=10))
    coach.refresh_from_db()
    assert coach.next_touch_due == frozen + datetime.timedelta(days=11)
    assert not coach.is_touch_due


def test_coach_set_cadence_overrides_the_default_and_empty_restores_it(rep, frozen):
    coach = factories.CoachFactory(holder=rep, strength="coach", last_interaction_on=frozen)
    services.coach_set_cadence(coach=coach, by=rep, cadence_days=7)
    coach.refresh_from_db()
    assert (coach.cadence, coach.next_touch_due) == (7, frozen + datetime.timedelta(days=7))
    services.coach_set_cadence(coach=coach, by=rep, cadence_days=None)
    coach.refresh_from_db()
    assert (coach.cadence, coach.next_touch_due) == (21, frozen + datetime.timedelta(days=21))


@pytest.mark.parametrize("days", [0, 366])
def test_coach_set_cadence_refuses_out_of_range(rep, frozen, days):
    coach = factories.CoachFactory(holder=rep)
    with pytest.raises(ValidationError) as error:
        services.coach_set_cadence(coach=coach, by=rep, cadence_days=days)
    assert "cadence_days" in error.value.message_dict


def test_coach_verify_with_a_new_strength_moves_the_default_cadence(rep, frozen):
    coach = factories.CoachFactory(holder=rep, strength="informant", last_interaction_on=frozen)
    services.coach_verify(coach=coach, by=rep, strength="champion")
    coach.refresh_from_db()
    assert coach.next_touch_due == frozen + datetime.timedelta(days=14)


def test_touch_due_includes_today_and_overdue_active_coaches_only(rep, frozen):
    def coach(touched, **kwargs):
        return factories.CoachFactory(
            holder=rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=touched), **kwargs
        )

    due_today, overdue, not_yet = coach(14), coach(20), coach(13)
    coach(30, status=Coach.Status.LAPSED)
    assert set(Coach.objects.touch_due()) == {due_today, overdue}
    assert not_yet.next_touch_due == frozen + datetime.timedelta(days=1)


def test_an_overdue_touch_is_a_health_issue_before_the_coach_is_stale(rep, frozen, settings):
    settings.COACH_STALE_DAYS = 60
    overdue = factories.CoachFactory(
        holder=rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=20)
    )
    factories.HolderFactory(coach=overdue)
    stale = factories.CoachFactory(holder=rep, last_interaction_on=frozen - datetime.timedelta(days=61))
    factories.HolderFactory(coach=stale)
    assert overdue.health_issues() == ["touch overdue"]
    assert stale.health_issues() == ["stale"]
    scores = dict(Coach.objects.with_health().values_list("pk", "health_score"))
    assert scores[overdue.pk] == 4
    assert scores[stale.pk] == 8


def test_coach_list_filters_the_coaches_due_for_a_touch(rep_client, rep, frozen):
    due = factories.CoachFactory(
        holder=rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=14)
    )
    factories.CoachFactory(holder=rep, last_interaction_on=frozen)
    response = rep_client.get("/coaches/", {"health": "touch_due"})
    assert list(response.context["page"]) == [due]


def test_last_kind_is_the_users_last_with_this_coach_else_his_last_else_a_call(rep):
    coach, other = factories.CoachFactory(holder=rep), factories.CoachFactory(holder=rep)
    assert selectors.last_kind(coach=coach, user=rep) == "call"
    factories.InteractionFactory(coach=other, user=rep, kind="meeting")
    assert selectors.last_kind(coach=coach, user=rep) == "meeting"
    factories.InteractionFactory(coach=coach, user=rep, kind="message")
    assert selectors.last_kind(coach=coach, user=rep) == "message"


def test_coach_page_puts_the_log_form_first_with_the_last_kind_and_status_behind_a_confirmation(rep_client, rep):
    coach = factories.CoachFactory(holder=rep)
    factories.InteractionFactory(coach=coach, user=rep, kind="meeting")
    response = rep_client.get(coach.get_absolute_url())
    assert response.context["interaction_form"].initial["kind"] == "meeting"
    page = response.content.decode()
    # The log form's column comes first on a phone (order-1) and is the main one on a desktop;
    # the status change is in the side column (order-2: after it on a phone), folded, asking first.
    log = page.index(f'action="/today/coaches/{coach.pk}/log/"')
    status = page.index(f'action="/coaches/{coach.pk}/status/"')
    assert page.index("order-2 order-lg-1") < status < page.index("order-1 order-lg-2") < log
    assert "<details" in page[page.rindex("<details", 0, status) : status]
    assert "data-confirm=" in page[status : page.index(">", status)]
