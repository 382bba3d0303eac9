# The coaches' background jobs: the periodic lapse of coaches nobody touched, the nightly repair
# of the kept visible accounts.
import logging

from celery import shared_task

from coachcrm.tasks import RETRY
from coaches import services, visibility

logger = logging.getLogger(__name__)


@shared_task(name="coaches.tasks.coaches_lapse_untouched_task", **RETRY)
def coaches_lapse_untouched_task() -> int:
    """Periodic: lapse coaches untouched for COACH_LAPSE_DAYS; the send-back follows per account."""
    return services.coaches_lapse_untouched()


@shared_task(name="coaches.tasks.coaches_end_departed_task", **RETRY)
def coaches_end_departed_task() -> int:
    """Periodic: end coaches whose position at the account has ended (a future end date on its day)."""
    return services.coaches_end_departed()


@shared_task(name="coaches.tasks.visible_repair_task", **RETRY)
def visible_repair_task() -> dict:
    """Nightly: the kept visible accounts mended where they drifted from the rule (writes around the services)."""
    added, removed = visibility.visible_repair()
    if added or removed:
        logger.warning("visible accounts repaired: %s rows added, %s removed", added, removed)
    return {"added": added, "removed": removed}
