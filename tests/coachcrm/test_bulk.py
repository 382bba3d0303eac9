import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coachcrm.bulk import bulk_update_by_value, bulk_update_with_history
from coaches.models import Coach, Holder
from tests import factories

FIELDS = ["at_risk", "at_risk_reason", "at_risk_facts", "at_risk_since", "strength", "cadence_days"]


def _state(coaches):
    return sorted(Coach.objects.filter(pk__in=[c.pk for c in coaches]).values_list("pk", *FIELDS))


def _mixed_changes(coaches, now):
    """Shared and distinct values, JSON documents, None and datetimes: what the jobs write."""
    for i, coach in enumerate(coaches):
        coach.at_risk = i % 3 != 0
        coach.at_risk_reason = "" if i % 2 else f"reason {i % 4}"
        coach.at_risk_facts = {} if i % 5 == 0 else {"kind": "leaving", "user": i % 3, "nested": [i % 2]}
        coach.at_risk_since = None if i % 4 == 0 else now - datetime.timedelta(days=i % 3)
        coach.strength = ["coach", "champion"][i % 2]
        coach.cadence_days = None if i % 3 == 0 else 7 * (i % 2 + 1)


def test_bulk_update_by_value_writes_what_bulk_update_writes(rep):
    # The oracle: the same changes through Django's bulk_update on one set, ours on another.
    ours = [factories.CoachFactory(holder=rep) for _ in range(12)]
    django_s = [factories.CoachFactory(holder=rep) for _ in range(12)]
    now = timezone.now()
    _mixed_changes(ours, now)
    _mixed_changes(django_s, now)
    assert bulk_update_by_value(ours, FIELDS, batch_size=5) == 12
    Coach.objects.bulk_update(django_s, FIELDS, batch_size=5)
    assert [row[1:] for row in _state(ours)] == [row[1:] for row in _state(django_s)]
    for coach in ours:
        coach.refresh_from_db()
    assert any(c.at_risk_facts == {"kind": "leaving", "user": 1, "nested": [1]} for c in ours)


def test_bulk_update_by_value_writes_foreign_keys(rep, other_rep):
    holders = [factories.CoachFactory(holder=rep).holders.get() for _ in range(4)]
    for i, holder in enumerate(holders):
        holder.user = [rep, other_rep][i % 2]
    bulk_update_by_value(holders, ["user"])
    assert [h.user for h in Holder.objects.filter(pk__in=[h.pk for h in holders]).order_by("pk")] == [
        rep,
        other_rep,
        rep,
        other_rep,
    ]


def test_bulk_update_by_value_sets_a_shared_value_without_a_case(rep):
    coaches = [factories.CoachFactory(holder=rep) for _ in range(3)]
    for coach in coaches:
        coach.at_risk, coach.at_risk_facts = True, {"kind": "leaving"}
    with CaptureQueriesContext(connection) as queries:
        bulk_update_by_value(coaches, ["at_risk", "at_risk_facts"])
    (update,) = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert "CASE" not in update
    assert Coach.objects.filter(at_risk=True, at_risk_facts={"kind": "leaving"}).count() == 3


def test_bulk_update_with_history_writes_one_history_row_per_object_with_the_reason(rep):
    coaches = [factories.CoachFactory(holder=rep) for _ in range(4)]
    for i, coach in enumerate(coaches):
        coach.strength = ["coach", "champion"][i % 2]
    assert bulk_update_with_history(coaches, Coach, ["strength"], batch_size=3, default_change_reason="job") == 4
    for i, coach in enumerate(coaches):
        latest = coach.history.first()
        assert (latest.strength, latest.history_change_reason) == (["coach", "champion"][i % 2], "job")
        assert coach.history.count() == 2


def test_bulk_update_by_value_with_nothing_writes_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert bulk_update_by_value([], ["strength"]) == 0
    assert len(queries) == 0
