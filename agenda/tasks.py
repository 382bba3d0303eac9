# The agenda's background job: the daily digest.
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from agenda import services
from coachcrm.tasks import RETRY


@shared_task(name="agenda.tasks.digests_send_task", **RETRY)
def digests_send_task() -> int:
    """Daily: each person's digest, once a day (DigestSent), not before DIGEST_HOUR local time."""
    if timezone.localtime().hour < settings.DIGEST_HOUR:
        return 0
    return services.digests_send()


@shared_task(name="agenda.tasks.tasks_due_emit_task", **RETRY)
def tasks_due_emit_task() -> int:
    """Hourly: the `task.due` webhook event for each open task due today, once per task and due date."""
    return services.tasks_due_emit()
