"""Outgoing e-mail: recorded, sent by a job after the commit, retried, and never lost silently."""

import logging
import smtplib

import pytest
from django.core import mail
from django.core.management import call_command

from team import services
from team.models import Email

pytestmark = pytest.mark.django_db


class FlakyBackend:
    """An e-mail backend whose server is down for the first `failures` sends."""

    failures = 0
    calls = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.team.test_emails.FlakyBackend"
    FlakyBackend.calls = 0
    return FlakyBackend


def test_notice_email_carries_an_absolute_link_from_site_url(rep, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://crm.example.com/"
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(user=rep, message="Deal sent back", link="/pipeline/opportunities/3/")
    assert "https://crm.example.com/pipeline/opportunities/3/" in mail.outbox[0].body
    assert Email.objects.get().status == Email.Status.SENT


def test_nothing_is_sent_before_the_commit(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify(user=rep, message="Later")
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_a_line_break_in_a_name_no_longer_loses_the_email(rep, django_capture_on_commit_callbacks):
    """Data from before the input checks: the subject is made one line instead of BadHeaderError."""
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(user=rep, message="Grant for Acme\r\nBcc: victim@example.com approved")
    assert mail.outbox[0].subject == "CoachCRM: Grant for Acme Bcc: victim@example.com approved"
    assert mail.outbox[0].recipients() == [rep.email]


def test_a_bad_header_is_marked_failed_and_logged_not_swallowed(rep, caplog):
    email = Email.objects.create(recipient=rep.email, subject="Broken\nsubject", body="x")
    with caplog.at_level(logging.ERROR, logger="team.services"):
        services.email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == Email.Status.FAILED
    assert "BadHeaderError" in email.last_error
    assert "giving up" in caplog.text
    assert mail.outbox == []


def test_a_mail_server_outage_is_retried_and_the_email_goes_out(rep, flaky, caplog, django_capture_on_commit_callbacks):
    flaky.failures = 1
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services.notify(user=rep, message="Deal sent back")
    email = Email.objects.get()
    assert email.status == Email.Status.PENDING  # in-process the job does not raise into the page
    assert email.attempts == 1
    assert "SMTPServerDisconnected" in email.last_error
    assert "failed (attempt 1)" in caplog.text

    Email.objects.update(created_at=email.created_at - services.EMAIL_RETRY_AFTER)
    # The retry goes through the outbox: its jobs are handed over once the job's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_scheduled", "team-emails-retry", stdout=open("/dev/null", "w"))  # noqa: SIM115
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert email.attempts == 2
    assert len(mail.outbox) == 1


def test_a_sent_email_is_never_sent_twice(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = services.email_queue(to=rep.email, subject="Hello", body="x")
    services.email_send(email_id=email.pk)
    assert len(mail.outbox) == 1


def test_an_email_gives_up_after_email_max_attempts(rep, flaky, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    flaky.failures = 10
    email = Email.objects.create(recipient=rep.email, subject="Hello", body="x")
    with pytest.raises(services.EmailRetryable):
        services.email_send(email_id=email.pk)
    services.email_send(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Email.Status.FAILED, 2)


def test_the_task_retries_through_celery_when_it_runs_on_a_worker(rep, flaky):
    from team.tasks import email_send_task

    flaky.failures = 1
    email = Email.objects.create(recipient=rep.email, subject="Hello", body="x")
    # apply() with eager off in the request: a worker's run, where the retry is Celery's.
    result = email_send_task.apply(args=[email.pk], throw=False)
    assert result.state in {"RETRY", "SUCCESS"}
    email.refresh_from_db()
    assert email.attempts >= 1


def test_admins_see_failed_emails_in_the_admin_site(client, rep):
    from tests import factories

    Email.objects.create(recipient=rep.email, subject="Hello", body="secret link", status="failed", last_error="X: y")
    client.force_login(factories.AdminFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/team/email/?status__exact=failed")
    assert response.status_code == 200
    assert "X: y" in response.content.decode()
    assert "secret link" not in response.content.decode()
