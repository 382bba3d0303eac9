# The webhooks' background jobs: send one delivery, and the sweep that retries what is due.
from celery import shared_task
from django.db import OperationalError

from coachcrm.tasks import RETRY
from webhooks import services


@shared_task(name="webhooks.tasks.webhook_deliver_task", **RETRY)
def webhook_deliver_task(delivery_pk: int) -> str:
    """Send one delivery; HTTP failures are recorded and retried by the sweep, never raised."""
    return services.delivery_send(delivery_pk=delivery_pk)


@shared_task(name="webhooks.tasks.webhooks_deliver_due_task", autoretry_for=(OperationalError,), max_retries=3)
def webhooks_deliver_due_task() -> int:
    """Periodic: enqueue the pending deliveries whose next attempt has come (backoff retries, lost messages)."""
    due = services.deliveries_due()
    for delivery_pk in due:
        webhook_deliver_task.delay(delivery_pk)
    return len(due)


@shared_task(name="webhooks.tasks.deliveries_prune_task", soft_time_limit=240, time_limit=300)
def deliveries_prune_task() -> int:
    """Periodic: delete delivered deliveries past their retention (a second run deletes nothing)."""
    return services.deliveries_prune()
