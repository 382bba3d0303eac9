"""Departure jobs: thin, take ids, idempotent, retried with backoff when the database hiccups.

Each keeps the name it had when it lived in `team/tasks.py` (`team.tasks.<function>`): queued
messages and CELERY_BEAT_SCHEDULE know the tasks by that name.
"""

from celery import shared_task

from coachcrm.tasks import RETRY as RETRY_ON_DATABASE_ERRORS
from departures import services

# The kernel's retry, and time limits: a departure's sweep over many coaches must not hang a worker.
RETRY = {**RETRY_ON_DATABASE_ERRORS, "soft_time_limit": 240, "time_limit": 300}


@shared_task(name="team.tasks.departure_flag_at_risk_task", **RETRY)
def departure_flag_at_risk_task(user_id: int) -> int:
    """Flag a leaving rep's at-risk coaches and open their handovers (a second run changes nothing)."""
    return services.departure_flag_at_risk(user_id=user_id)


@shared_task(name="team.tasks.user_depart_task", **RETRY)
def user_depart_task(user_id: int) -> dict:
    """Depart a rep whose date has come: ownership moves to successors (a departed rep is left alone)."""
    return services.user_depart(user_id=user_id)


@shared_task(name="team.tasks.departures_sweep_task", **RETRY)
def departures_sweep_task() -> dict:
    """Periodic: enqueue missed flagging, depart reps whose date has come, close done handovers."""
    return services.departures_sweep()


@shared_task(name="team.tasks.handovers_remind_task", **RETRY)
def handovers_remind_task() -> int:
    """Periodic: remind successors of handovers due soon or overdue (once a day)."""
    return services.handovers_remind()
