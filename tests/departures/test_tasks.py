"""Departure jobs: the beat entries, run_scheduled, and the real flow on a Celery worker over Redis."""

import datetime
import os
import time

import pytest
from celery.signals import task_postrun
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from coaches.models import Coach, Handover
from departures import services, tasks
from team.models import User
from tests import factories

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/6"


def coach_of(user):
    return factories.CoachFactory(account=factories.AccountFactory(owner=user), holder=user)


def test_beat_schedule_has_the_daily_departure_jobs(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["team-departures"]["task"] == "team.tasks.departures_sweep_task"
    assert schedule["team-handover-reminders"]["task"] == "team.tasks.handovers_remind_task"
    assert schedule["team-departures"]["schedule"] == schedule["team-handover-reminders"]["schedule"] == 86400
    assert "coaches-lapse-untouched" in schedule  # the stale-coach scan


def test_tasks_keep_their_team_tasks_names():
    # Queued messages and the beat schedule name the tasks as they were in team/tasks.py.
    from coachcrm.celery import app

    for task in (
        tasks.departure_flag_at_risk_task,
        tasks.user_depart_task,
        tasks.departures_sweep_task,
        tasks.handovers_remind_task,
    ):
        assert task.name == f"team.tasks.{task.__name__}"
        assert app.tasks[task.name].run is task.run


def test_tasks_retry_on_database_errors_with_backoff_and_time_limits():
    from django.db import OperationalError

    for task in (
        tasks.departure_flag_at_risk_task,
        tasks.user_depart_task,
        tasks.departures_sweep_task,
        tasks.handovers_remind_task,
    ):
        assert task.autoretry_for == (OperationalError,) and task.retry_backoff
        assert task.time_limit and task.soft_time_limit < task.time_limit


def test_run_scheduled_flags_missed_departures_departs_due_ones_and_reminds(
    rep, manager, settings, django_capture_on_commit_callbacks
):
    settings.HANDOVER_DUE_DAYS = 2
    today = timezone.localdate()
    rep.status, rep.departure_date = User.Status.LEAVING, today  # marked while the broker was down
    rep.save()
    coach = coach_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_scheduled", "team-departures")
    call_command("run_scheduled", "team-handover-reminders")
    rep.refresh_from_db()
    coach.refresh_from_db()
    assert rep.status == User.Status.DEPARTED and rep.departure_flagged_at is not None
    assert coach.at_risk and coach.holders.get().user == manager
    assert Handover.objects.get().to_user == manager
    assert manager.notifications.filter(message__contains="due within").exists()


def test_flag_task_twice_changes_nothing_the_second_time(rep):
    rep.status, rep.departure_date = User.Status.LEAVING, timezone.localdate()
    rep.save()
    coach_of(rep)
    assert tasks.departure_flag_at_risk_task.delay(rep.pk).get() == 1
    assert tasks.departure_flag_at_risk_task.delay(rep.pk).get() == 0
    assert Handover.objects.count() == 1


# --- a real worker --------------------------------------------------------------------------


@pytest.fixture
def real_worker():
    """Celery's test worker in a thread, consuming from Redis (not eager)."""
    from celery.contrib.testing.worker import start_worker

    from coachcrm.celery import app

    previous = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}

    def reconnect():
        # Drop the cached connection and producer pools so the next publish uses the new URL.
        app._pool = None
        app.amqp._producer_pool = None

    def close_connections(**kwargs):
        # The worker thread's own database connections: left open, they keep the test database
        # busy at teardown ("accessed by other users").
        connections.close_all()

    app.conf.update(broker_url=BROKER_URL, task_always_eager=False)
    reconnect()
    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            yield app
    finally:
        task_postrun.disconnect(close_connections)
        app.conf.update(previous)
        reconnect()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not done within {timeout}s on the worker")
        time.sleep(0.2)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_departure_flow_on_a_real_worker(real_worker):
    manager = factories.ManagerFactory()
    rep = factories.RepFactory(manager=manager)
    alone = coach_of(rep)
    shared = coach_of(rep)
    partner = factories.RepFactory(manager=manager)
    factories.HolderFactory(coach=shared, user=partner)
    factories.InteractionFactory(coach=shared, user=partner)

    # Committed here, so the on-commit enqueue goes to Redis and the worker thread picks it up.
    services.user_mark_leaving(user=rep, departure_date=timezone.localdate(), by=manager)
    wait_for(lambda: User.objects.filter(pk=rep.pk, departure_flagged_at__isnull=False).exists())
    assert list(Coach.objects.at_risk().values_list("pk", flat=True)) == [alone.pk]
    assert Handover.objects.get().to_user == manager

    tasks.departures_sweep_task.delay()  # the daily job: his date has come
    wait_for(lambda: User.objects.filter(pk=rep.pk, status=User.Status.DEPARTED).exists())
    rep.refresh_from_db()
    assert not rep.is_active
    assert alone.holders.get().user == manager
    assert shared.holders.get().user == partner
    assert not rep.owned_accounts.exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_flagging_twice_on_a_real_worker_opens_one_handover(real_worker):
    rep = factories.RepFactory(status=User.Status.LEAVING, departure_date=timezone.localdate() + datetime.timedelta(1))
    coach_of(rep)
    tasks.departure_flag_at_risk_task.delay(rep.pk)
    tasks.departure_flag_at_risk_task.delay(rep.pk)
    wait_for(lambda: User.objects.filter(pk=rep.pk, departure_flagged_at__isnull=False).exists())
    time.sleep(1)  # let the second run finish too
    assert Handover.objects.count() == 1
