# The coaches' background jobs: the periodic lapse of coaches nobody touched.
from celery import shared_task
from django.db import OperationalError

from coaches import services


@shared_task(
    name="coaches.tasks.coaches_lapse_untouched_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def coaches_lapse_untouched_task() -> int:
    """Periodic: lapse coaches untouched for COACH_LAPSE_DAYS; the send-back follows per account."""
    return services.coaches_lapse_untouched()


@shared_task(
    name="coaches.tasks.coaches_end_departed_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def coaches_end_departed_task() -> int:
    """Periodic: end coaches whose position at the account has ended (a future end date on its day)."""
    return services.coaches_end_departed()
