"""E-mail jobs: thin, take ids, idempotent (a sent e-mail is never sent twice)."""

from celery import shared_task
from django.db import OperationalError

from team import services


@shared_task(name="team.tasks.email_send_task", bind=True, max_retries=5, soft_time_limit=60, time_limit=90)
def email_send_task(self, email_id: int) -> None:
    """Send one recorded e-mail; a mail server or database hiccup is retried with backoff."""
    try:
        services.email_send(email_id=email_id)
    except (services.EmailRetryable, OperationalError) as error:
        if self.request.is_eager:
            # In-process (embedded mode, tests): never an error page after the commit; the row
            # stays waiting and the periodic team-emails-retry job tries again.
            return
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 1800)) from error


@shared_task(name="team.tasks.emails_retry_task")
def emails_retry_task() -> int:
    """Enqueue the e-mails still waiting (a broker outage, a failed try in embedded mode)."""
    return services.emails_retry()


@shared_task(name="team.tasks.security_events_prune_task")
def security_events_prune_task() -> int:
    """Delete the login audit's events older than SECURITY_EVENTS_KEEP_DAYS (a second run deletes none)."""
    return services.security_events_prune()
