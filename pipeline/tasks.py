# The pipeline's background jobs: the send-back of an account that lost its coach, the prospect after a coach moved.
import datetime

from celery import shared_task

from coachcrm.tasks import RETRY
from pipeline import services
from pipeline.stage_facts import stage_facts_refresh, stage_owners_refresh


@shared_task(name="pipeline.tasks.account_send_back_task", **RETRY)
def account_send_back_task(account_id: int) -> int:
    """Send an account's gated deals back when it has no active coach (a second run changes nothing)."""
    return services.account_send_back(account_id=account_id)


@shared_task(name="pipeline.tasks.gate_sweep_task", time_limit=300, soft_time_limit=240, **RETRY)
def gate_sweep_task() -> int:
    """Periodic: send back every deal in a gated stage without what it requires (a second run changes nothing)."""
    return services.gate_sweep().sent_back


# Under the broker's visibility timeout (600 s): 520,000 moves took ~2 min on a loaded machine.
@shared_task(name="pipeline.tasks.dashboard_facts_rebuild_task", time_limit=540, soft_time_limit=480, **RETRY)
def dashboard_facts_rebuild_task() -> int:
    """Nightly, and after a stage's order or outcome changed: every move's visit facts and owner; the moves changed."""
    return stage_facts_refresh() + stage_owners_refresh()


# Named as it was when it lived in coaches/tasks.py, so messages queued before an upgrade still run.
@shared_task(name="coaches.tasks.coach_moved_task", **RETRY)
def coach_moved_task(*, old_coach_id: int, to_account_id: int, start_date: str, account_created: bool) -> int | None:
    """Open the prospect at a moved coach's new company; keyed by person, account and date, so a rerun makes nothing."""
    move = services.coach_moved(
        old_coach_id=old_coach_id,
        to_account_id=to_account_id,
        start_date=datetime.date.fromisoformat(start_date),
        account_created=account_created,
    )
    return move.pk if move else None
