# The kernel's background jobs: the periodic relay of the outbox (coachcrm.jobs), and its pruning.
from celery import shared_task

from coachcrm import jobs


# No autoretry: the next beat round is the retry, and a relay that failed half-way sent what it could.
@shared_task(name="coachcrm.tasks.jobs_relay_task", soft_time_limit=240, time_limit=300)
def jobs_relay_task() -> dict:
    """Periodic: hand every job still waiting in the outbox to Celery (a second run sends nothing new)."""
    return jobs.relay()


@shared_task(name="coachcrm.tasks.jobs_prune_task", soft_time_limit=240, time_limit=300)
def jobs_prune_task() -> int:
    """Periodic: delete sent jobs past their retention (a second run deletes nothing)."""
    return jobs.prune()
