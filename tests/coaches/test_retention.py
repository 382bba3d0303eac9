"""The retention KPI (coaches.selectors.retention_summary) on constructed data."""

import datetime

import pytest
from django.utils import timezone

from coaches.models import Coach, Handover
from coaches.selectors import retention_summary
from team.models import User
from tests import factories

TODAY = timezone.localdate()


def departed(name: str, days_ago: int) -> User:
    return factories.RepFactory(
        username=name,
        first_name=name.title(),
        last_name="",
        status=User.Status.DEPARTED,
        is_active=False,
        departure_date=TODAY - datetime.timedelta(days=days_ago),
    )


def handed_over(rep: User, *, touched_after_days: int | None, coach_status=Coach.Status.ACTIVE, status="open"):
    """A handover opened before the departure; the successor touched the coach N days after the departure."""
    coach = factories.CoachFactory(holder=rep, status=coach_status)
    handover = factories.HandoverFactory(coach=coach, from_user=rep, status=status)
    Handover.objects.filter(pk=handover.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    if touched_after_days is not None:
        factories.InteractionFactory(
            coach=coach,
            user=handover.to_user,
            occurred_on=rep.departure_date + datetime.timedelta(days=touched_after_days),
        )
    return handover


def test_retention_per_departure_and_overall_beside_the_benchmark(db):
    ann = departed("ann", 120)
    handed_over(ann, touched_after_days=10)  # kept
    handed_over(ann, touched_after_days=90)  # kept: on the 90th day
    handed_over(ann, touched_after_days=91)  # too late
    handed_over(ann, touched_after_days=None)  # never touched
    handed_over(ann, touched_after_days=5, coach_status=Coach.Status.LAPSED)  # touched, but lost since
    handed_over(ann, touched_after_days=5, status="cancelled")  # not counted at all
    ben = departed("ben", 30)
    handed_over(ben, touched_after_days=1)
    factories.RepFactory()  # never departed: not in the figures

    summary = retention_summary(users_qs=User.objects.all())

    assert summary["benchmark"] == 0.8
    by_name = {row["name"]: row for row in summary["departures"]}
    assert set(by_name) == {"Ann", "Ben"}
    assert (by_name["Ann"]["coaches"], by_name["Ann"]["kept"], by_name["Ann"]["rate"]) == (5, 2, 0.4)
    assert by_name["Ann"]["final"] and not by_name["Ben"]["final"]
    assert (by_name["Ben"]["coaches"], by_name["Ben"]["kept"], by_name["Ben"]["rate"]) == (1, 1, 1.0)
    assert summary["overall"] == {"coaches": 6, "kept": 3, "rate": 0.5}


def test_retention_counts_only_interactions_by_the_new_holder_after_the_handover_opened(db):
    ann = departed("ann", 120)
    handover = handed_over(ann, touched_after_days=None)
    factories.InteractionFactory(coach=handover.coach, user=ann, occurred_on=ann.departure_date)  # the old holder
    assert retention_summary(users_qs=User.objects.all())["overall"]["kept"] == 0


def test_retention_is_scoped_to_the_given_users_and_empty_without_departures(db):
    ann = departed("ann", 120)
    handed_over(ann, touched_after_days=1)
    assert retention_summary(users_qs=User.objects.exclude(pk=ann.pk)) == {
        "departures": [],
        "overall": {"coaches": 0, "kept": 0, "rate": None},
        "benchmark": 0.8,
    }


@pytest.mark.parametrize("departures", [1, 10])
def test_retention_query_count_does_not_grow_with_departures(db, departures, django_assert_num_queries):
    for index in range(departures):
        handed_over(departed(f"rep{index}", 100), touched_after_days=1)
    # One grouped query: a per-departure query would add one per rep.
    with django_assert_num_queries(1):
        summary = retention_summary(users_qs=User.objects.all())
    assert len(summary["departures"]) == departures
