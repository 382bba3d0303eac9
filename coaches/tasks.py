import datetime

from celery import shared_task
from django.db import OperationalError

from coaches import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def coaches_lapse_untouched_task() -> int:
    """Periodic: lapse coaches untouched for COACH_LAPSE_DAYS; the send-back follows per account."""
    return services.coaches_lapse_untouched()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def coach_moved_task(*, old_coach_id: int, to_account_id: int, start_date: str, account_created: bool) -> int | None:
    """Open the prospect at a moved coach's new company; keyed by person, account and date, so a rerun makes nothing."""
    move = services.coach_moved(
        old_coach_id=old_coach_id,
        to_account_id=to_account_id,
        start_date=datetime.date.fromisoformat(start_date),
        account_created=account_created,
    )
    return move.pk if move else None
