from celery import shared_task
from django.db import OperationalError

from pipeline import services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def account_send_back_task(account_id: int) -> int:
    """Send an account's gated deals back when it has no active coach (a second run changes nothing)."""
    return services.account_send_back(account_id=account_id)
