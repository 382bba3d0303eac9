# The kernel's background jobs: the periodic relay of the outbox (coachcrm.jobs), and its pruning.
from celery import shared_task
from django.db import OperationalError

from coachcrm import jobs

# Every app's jobs retry on a database hiccup (a lock timeout, a dropped connection) with backoff:
# `@shared_task(name=..., **RETRY)`. Each job is idempotent, so a retry redoes nothing twice.
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 5}


# No autoretry: the next beat round is the retry, and a relay that failed half-way sent what it could.
@shared_task(name="coachcrm.tasks.jobs_relay_task", soft_time_limit=240, time_limit=300)
def jobs_relay_task() -> dict:
    """Periodic: hand every job still waiting in the outbox to Celery (a second run sends nothing new)."""
    return jobs.relay()


@shared_task(name="coachcrm.tasks.jobs_prune_task", soft_time_limit=240, time_limit=300)
def jobs_prune_task() -> int:
    """Periodic: delete sent jobs past their retention (a second run deletes nothing)."""
    return jobs.prune()
