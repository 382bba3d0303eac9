# The outbox: every background job a write causes is recorded with it and handed to Celery after the commit.
"""The one way to enqueue a background job: `jobs.enqueue(task, key=..., **kwargs)`.

`enqueue` records a `Job` row in the caller's transaction, so the job exists exactly when the
write does. After the commit the relay hands it to Celery (embedded: runs it at once, in
process) and marks it sent. When the broker cannot be reached the row stays waiting, the
request answers normally (`jobs.delayed()` tells the page and the API), and the periodic relay
(`coachcrm.tasks.jobs_relay_task`: beat every 30 s, `run_scheduled` embedded) sends it once the
broker is back. Delivery is at least once, so every task is idempotent by its key.

Converting a call: `tasks.x_task.delay_on_commit(account.pk)` becomes
`jobs.enqueue(tasks.x_task, key=f"x:{account.pk}", account_id=account.pk)` (keyword
arguments only, JSON values: dates as ISO strings).
"""

import contextlib
import contextvars
import datetime
import json
import logging
import re
import time
from functools import partial

from celery.signals import task_failure
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from coachcrm.bulk import delete_in_batches
from coachcrm.celery import app
from coachcrm.models import Job

logger = logging.getLogger(__name__)

# One quick retry (a pooled connection left over from before an outage fails once), then give up:
# the job waits in the outbox, so there is no reason to keep a request waiting on the broker.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# After a failed publish, the relays that follow a commit leave their jobs waiting for this many
# seconds without trying: a write that enqueues hundreds of jobs must not try the broker hundreds of times.
BROKER_PAUSE_SECONDS = 10.0
_broker_paused_until = 0.0

# The jobs delayed during the current request (set by `coachcrm.middleware.JobsDelayedMiddleware`).
_delayed: contextvars.ContextVar[list | None] = contextvars.ContextVar("jobs_delayed", default=None)


class Outcome:
    SENT = "sent"
    DELAYED = "delayed"  # the broker could not be reached: the job waits for the next relay
    FAILED = "failed"  # the task raised (embedded, or on the worker for good) or is unknown: an admin retries it
    SKIPPED = "skipped"  # already sent, or another relay holds it


def _task(name: str):
    if name not in app.tasks:
        app.loader.import_default_modules()  # registers every app's tasks.py
    return app.tasks[name]


def enqueue(task, /, *, key: str, **kwargs) -> Job:
    """Record a job (a task or its registered name, keyword arguments) to run once the current transaction commits."""
    return enqueue_many(task, {key: kwargs})[0]


def enqueue_many(task, /, calls: dict[str, dict]) -> list[Job]:
    """Record one job per key (`{key: kwargs}`) of the same task, in a fixed number of queries."""
    name = task if isinstance(task, str) else task.name
    _task(name)  # an unknown name fails here, in the write, not later in the relay
    json.dumps(calls)  # and so do arguments that cannot travel (TypeError)
    if not calls:
        return []
    with transaction.atomic():
        # A waiting job with the same key is joined rather than doubled (the partial unique
        # constraint; a conflicting row is skipped, including one a concurrent write just made).
        Job.objects.bulk_create(
            [Job(task=name, kwargs=kwargs, key=key) for key, kwargs in calls.items()], ignore_conflicts=True
        )
        # Every waiting job of these keys, ours or joined, stays locked until this transaction
        # commits: a relay skips locked rows, so no task runs before this write is visible to it.
        found = {
            job.key: job
            for job in Job.objects.select_for_update().filter(key__in=calls, status=Job.Status.PENDING).order_by("pk")
        }
    enqueued = [found[key] for key in calls]
    transaction.on_commit(partial(_relay_after_commit, [job.pk for job in enqueued]))
    return enqueued


@contextlib.contextmanager
def collecting_delayed():
    """Within this block (a request), note the jobs that could not be handed over; yields their ids."""
    noted: list[int] = []
    token = _delayed.set(noted)
    try:
        yield noted
    finally:
        _delayed.reset(token)


def delayed() -> bool:
    """Whether a job enqueued during the current request could not be handed over (the write itself is saved)."""
    return bool(_delayed.get())


def _note_delayed(pk: int) -> None:
    noted = _delayed.get()
    if noted is not None:
        noted.append(pk)


def _relay_after_commit(ids: list[int]) -> None:
    for pk in ids:
        if not app.conf.task_always_eager and time.monotonic() < _broker_paused_until:
            _note_delayed(pk)  # the broker just failed: leave the job to the periodic relay
            continue
        try:
            outcome = send(pk)
        except DatabaseError as error:
            # The write is committed: the job waits in the outbox for the periodic relay, and the
            # request answers as saved (SQLite under a busy worker: "database is locked").
            logger.warning("Job %s not handed over after its write, left to the relay: %s", pk, error)
            outcome = Outcome.DELAYED
        if outcome in (Outcome.DELAYED, Outcome.FAILED):
            _note_delayed(pk)


def send(pk: int) -> str:
    """Hand one waiting job to Celery (embedded: run it here) and mark it sent; only a database error raises."""
    global _broker_paused_until
    eager = app.conf.task_always_eager
    with transaction.atomic():
        # Held until the job is marked: two relays never send the same row (PostgreSQL; SQLite
        # serialises writers anyway). A crash after the publish and before the commit leaves the
        # job waiting, and it is sent again: at least once.
        job = Job.objects.select_for_update(skip_locked=True).filter(pk=pk, status=Job.Status.PENDING).first()
        if job is None:
            return Outcome.SKIPPED
        job.attempts += 1
        try:
            if eager:
                with transaction.atomic():  # the task's writes roll back alone when it raises
                    _task(job.task).apply(kwargs=job.kwargs, throw=True)
            else:
                app.send_task(
                    job.task,
                    kwargs=job.kwargs,
                    task_id=worker_task_id(job),
                    retry=True,
                    retry_policy=PUBLISH_RETRY_POLICY,
                )
        except Exception as error:
            job.last_error = f"{type(error).__name__}: {error}"[:2000]
            if eager:
                logger.exception("Background job %s (%s) failed", job.pk, job.task)
                job.status = Job.Status.FAILED
            else:
                # Any publish error is the broker's (arguments were checked at enqueue): keep waiting.
                logger.warning("Broker unreachable, job %s (%s) waits in the outbox: %s", job.pk, job.task, error)
                _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
            job.save(update_fields=["attempts", "last_error", "status"])
            return Outcome.FAILED if eager else Outcome.DELAYED
        job.status, job.sent_at, job.last_error = Job.Status.SENT, timezone.now(), ""
        job.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return Outcome.SENT


def worker_task_id(job: Job) -> str:
    """The Celery task id of one sending of a job: the worker's failure comes back to its row by it."""
    return f"coachcrm-job-{job.pk}-{job.attempts}"


_WORKER_TASK_ID = re.compile(r"^coachcrm-job-(?P<pk>\d+)-\d+$")


@task_failure.connect
def _failed_on_the_worker(sender=None, task_id=None, exception=None, **kwargs) -> None:
    """A job that failed on the worker for good (its task's retries spent) is marked failed, as an
    embedded one is, so the admin counts it and can retry it (every task is idempotent by its key).
    A publish reaches the worker after the relay marked the job sent, so only a sent job changes."""
    match = _WORKER_TASK_ID.match(task_id or "")
    if match is None:
        return  # not a job of the outbox (an eager run, a task sent by hand)
    try:
        Job.objects.filter(pk=int(match["pk"]), status=Job.Status.SENT).update(
            status=Job.Status.FAILED, last_error=f"{type(exception).__name__}: {exception}"[:2000]
        )
    except DatabaseError:
        logger.exception("Could not mark job %s failed", match["pk"])


def relay(*, limit: int = 1000) -> dict:
    """Periodic: send every waiting job, oldest first, until a broker error (a second run sends nothing new)."""
    global _broker_paused_until
    _broker_paused_until = 0.0  # the periodic relay is the one that finds out the broker is back
    counts = {Outcome.SENT: 0, Outcome.DELAYED: 0, Outcome.FAILED: 0, Outcome.SKIPPED: 0}
    waiting = Job.objects.filter(status=Job.Status.PENDING).order_by("created_at", "pk")
    for pk in list(waiting.values_list("pk", flat=True)[:limit]):
        outcome = send(pk)
        counts[outcome] += 1
        if outcome == Outcome.DELAYED:
            break
    return counts


def retry(*, ids: list[int]) -> int:
    """Put failed jobs back in the queue and try to send them now (the admin's retry action); returns how many."""
    retried = 0
    for job in Job.objects.filter(pk__in=ids, status=Job.Status.FAILED):
        # One waiting job per key: a failed job whose key is already waiting again is covered by that one.
        if not Job.objects.filter(key=job.key, status=Job.Status.PENDING).exists():
            job.status = Job.Status.PENDING
            job.save(update_fields=["status"])
            send(job.pk)
            retried += 1
    return retried


def prune(*, now: datetime.datetime | None = None) -> int:
    """Periodic: delete sent jobs older than JOBS_RETENTION_DAYS; waiting and failed ones stay (returns how many)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.JOBS_RETENTION_DAYS)
    # On (status, created_at), the outbox's index.
    return delete_in_batches(Job.objects.filter(status=Job.Status.SENT, created_at__lt=cutoff))
