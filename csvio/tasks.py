# The background jobs of imports: a large file's confirmation, and the requeue of lost ones.
from celery import shared_task

from coachcrm.tasks import RETRY
from csvio import services


@shared_task(name="csvio.import_batch_run", **RETRY)
def import_batch_run_task(batch_id: int) -> str:
    """Import a confirmed batch, all rows or none (a second run finds it imported and changes nothing)."""
    return services.import_batch_run(batch_id=batch_id)


@shared_task(name="csvio.import_batches_resume")
def import_batches_resume_task() -> int:
    """Periodic: requeue the confirmations whose job was lost, so no batch stays 'importing' forever."""
    return services.import_batches_resume()
