"""The outbox (coachcrm.jobs): recorded with the write, relayed after it, never lost to a broker outage."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import OperationalError, transaction
from django.urls import reverse
from django.utils import timezone

from coachcrm import bulk, jobs, tasks
from coachcrm.celery import app
from coachcrm.models import Job
from coaches.models import Coach
from pipeline.models import StageChange
from tests import factories

SEND_BACK = "pipeline.tasks.account_send_back_task"
WEEK = datetime.timedelta(days=7)


@pytest.fixture
def gated(rep, stages):
    """An account whose only coach can be ended, with a deal past the coach gate."""
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep)
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Negotiation"])
    return coach, deal


def test_enqueue_records_the_job_with_the_write_and_runs_it_after_the_commit(
    gated, stages, django_capture_on_commit_callbacks
):
    coach, deal = gated
    Coach.objects.filter(pk=coach.pk).update(status=Coach.Status.ENDED)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue(SEND_BACK, key=f"account-send-back:{deal.account_id}", account_id=deal.account_id)
        assert Job.objects.get().status == Job.Status.PENDING  # recorded, not run, inside the transaction
    job.refresh_from_db()
    assert job.status == Job.Status.SENT and job.attempts == 1 and job.sent_at
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]  # embedded: the task ran in-process at the commit


def test_a_rolled_back_write_leaves_no_job(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                jobs.enqueue(SEND_BACK, key="account-send-back:1", account_id=1)
                raise RuntimeError("the write fails")
        except RuntimeError:
            pass
    assert not Job.objects.exists() and not callbacks


def test_a_second_enqueue_with_the_key_joins_the_waiting_job(db):
    first = jobs.enqueue(SEND_BACK, key="account-send-back:7", account_id=7)
    again = jobs.enqueue(SEND_BACK, key="account-send-back:7", account_id=7)
    both = jobs.enqueue_many(
        SEND_BACK, {"account-send-back:7": {"account_id": 7}, "account-send-back:8": {"account_id": 8}}
    )
    assert again.pk == first.pk == both[0].pk and both[1].pk != first.pk
    assert Job.objects.count() == 2


def test_a_sent_job_does_not_absorb_a_new_one_with_its_key(db, fake_broker, django_capture_on_commit_callbacks):
    # The task may already have run; the new write's consequence needs a run of its own.
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue(SEND_BACK, key="account-send-back:7", account_id=7)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue(SEND_BACK, key="account-send-back:7", account_id=7)
    assert Job.objects.filter(status=Job.Status.SENT).count() == 2 and len(fake_broker.sent) == 2


def test_enqueue_refuses_an_unknown_task_or_arguments_that_cannot_travel(db):
    with pytest.raises(KeyError):
        jobs.enqueue("pipeline.tasks.no_such_task", key="x", account_id=1)
    with pytest.raises(TypeError):
        jobs.enqueue(SEND_BACK, key="x", account_id=datetime.date.today())
    assert not Job.objects.exists()


def test_broker_down_keeps_the_job_waiting_and_the_relay_sends_it_once_back(
    db, fake_broker, django_capture_on_commit_callbacks
):
    fake_broker.down = True
    with jobs.collecting_delayed() as delayed, django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue(SEND_BACK, key="account-send-back:3", account_id=3)
    job.refresh_from_db()
    assert delayed == [job.pk] and job.status == Job.Status.PENDING
    assert "Connection refused" in job.last_error and job.attempts == 1

    assert jobs.relay() == {"sent": 0, "delayed": 1, "failed": 0, "skipped": 0}  # still down
    fake_broker.down = False
    assert jobs.relay()["sent"] == 1
    assert jobs.relay()["sent"] == 0  # a second run sends nothing new
    job.refresh_from_db()
    assert job.status == Job.Status.SENT and job.last_error == "" and job.attempts == 3
    assert fake_broker.sent == [(SEND_BACK, {"account_id": 3})]


def test_a_database_error_while_handing_over_leaves_the_job_to_the_relay_and_the_write_saved(
    db, fake_broker, django_capture_on_commit_callbacks, monkeypatch
):
    # SQLite under a busy worker: marking the job sent after the commit can meet "database is
    # locked". The write is committed; the request must answer as saved, the job wait.
    def locked(pk):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "send", locked)
        with jobs.collecting_delayed() as delayed, django_capture_on_commit_callbacks(execute=True):
            job = jobs.enqueue(SEND_BACK, key="account-send-back:4", account_id=4)
    job.refresh_from_db()
    assert delayed == [job.pk] and job.status == Job.Status.PENDING
    assert jobs.relay()["sent"] == 1
    assert fake_broker.sent == [(SEND_BACK, {"account_id": 4})]


def test_a_job_that_fails_on_the_worker_for_good_is_marked_failed_and_the_retry_sends_it_again(
    db, fake_broker, django_capture_on_commit_callbacks
):
    from celery.signals import task_failure

    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue(SEND_BACK, key="account-send-back:5", account_id=5)
    job.refresh_from_db()
    assert job.status == Job.Status.SENT and fake_broker.task_ids == [jobs.worker_task_id(job)]

    # The worker's last try raised (Celery sends task_failure once the task's retries are spent).
    task_failure.send(sender=None, task_id=fake_broker.task_ids[0], exception=ValueError("account 5 is gone"))
    task_failure.send(sender=None, task_id="a-task-sent-by-hand", exception=ValueError("not a job"))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.last_error == "ValueError: account 5 is gone"
    assert Job.objects.backlog()["failed"] == 1

    assert jobs.retry(ids=[job.pk]) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SENT and len(fake_broker.sent) == 2
    assert fake_broker.task_ids[1] == jobs.worker_task_id(job) != fake_broker.task_ids[0]  # one id per sending


def test_after_a_broker_error_the_commits_that_follow_do_not_wait_on_it(
    db, fake_broker, django_capture_on_commit_callbacks
):
    fake_broker.down = True
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue_many(SEND_BACK, {f"account-send-back:{i}": {"account_id": i} for i in range(50)})
    # One publish tried and failed; the other 49 wait for the periodic relay without trying.
    assert Job.objects.filter(status=Job.Status.PENDING, attempts=1).count() == 1
    assert Job.objects.filter(status=Job.Status.PENDING, attempts=0).count() == 49
    fake_broker.down = False
    assert jobs.relay()["sent"] == 50


def test_enqueue_many_takes_a_fixed_number_of_queries(db, django_assert_num_queries):
    # Guards a query (or four, with the savepoints) per job: the lapse job enqueues one send-back per account.
    with django_assert_num_queries(4):
        jobs.enqueue_many(SEND_BACK, {f"account-send-back:{i}": {"account_id": i} for i in range(50)})


def test_a_failing_task_is_marked_failed_and_the_admins_retry_runs_it_again(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from pipeline import services

    def broken(**kwargs):
        raise ValueError("no stage before the gate")

    monkeypatch.setattr(services, "account_send_back", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue(SEND_BACK, key="account-send-back:5", account_id=5)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no stage before the gate" in job.last_error
    assert jobs.relay()["sent"] == 0  # failed jobs wait for a person

    monkeypatch.undo()
    assert jobs.retry(ids=[job.pk]) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SENT and job.attempts == 2


# --- what the user sees -------------------------------------------------------------------


# Real commits (transaction=True): the relay runs when the service's transaction commits, inside the request.


@pytest.mark.django_db(transaction=True)
def test_ending_the_last_coach_with_the_broker_down_saves_and_says_the_follow_up_is_delayed(
    rep_client, gated, stages, fake_broker
):
    coach, deal = gated
    fake_broker.down = True
    response = rep_client.post(
        reverse("coaches:coach-status", args=[coach.pk]), {"status": "ended", "reason": "left us"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any("follow-up work is delayed" in message for message in shown), shown
    coach.refresh_from_db()
    assert coach.status == Coach.Status.ENDED
    job = Job.objects.get()
    assert (job.task, job.kwargs, job.status) == (SEND_BACK, {"account_id": deal.account_id}, Job.Status.PENDING)


@pytest.mark.django_db(transaction=True)
def test_an_api_write_whose_jobs_are_delayed_answers_saved_with_jobs_delayed(token_client, rep, stages, fake_broker):
    factories.ProductLineFactory(name="Cloud")
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep)
    fake_broker.down = True
    response = token_client(rep).post(
        reverse("api:contact-move", args=[coach.contact_id]),
        {"account_name": "Blue Harbour", "title": "CIO", "start_date": (timezone.localdate() - WEEK).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["jobs_delayed"] is True and body["current_position"]["account_name"] == "Blue Harbour"
    assert set(Job.objects.values_list("task", flat=True)) == {SEND_BACK, "coaches.tasks.coach_moved_task"}

    fake_broker.down, jobs._broker_paused_until = False, 0.0
    response = token_client(rep).post(reverse("api:contact-move", args=[coach.contact_id]), {
        "account_name": "Grey Harbour", "title": "CIO", "start_date": timezone.localdate().isoformat()
    }, format="json")  # fmt: skip
    assert response.status_code == 200 and "jobs_delayed" not in response.json()


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_home_warns_when_a_job_has_waited_too_long(admin_client, settings):
    settings.JOBS_WARN_MINUTES = 5
    job = jobs.enqueue(SEND_BACK, key="account-send-back:1", account_id=1)
    assert b"Background jobs are not getting through" not in admin_client.get(reverse("admin:index")).content
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=6))
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Background jobs are not getting through: 1 not sent (0 failed), the oldest for 6 minutes." in page
    # A failed job is counted as failed, not as waiting: it needs the retry action, not the broker.
    Job.objects.create(task=SEND_BACK, key="account-send-back:2", status=Job.Status.FAILED)
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "2 not sent (1 failed), the oldest for 6 minutes" in page


def test_admin_job_list_shows_the_counts_and_retries_failed_jobs(admin_client, django_capture_on_commit_callbacks):
    waiting = jobs.enqueue(SEND_BACK, key="account-send-back:1", account_id=1)
    failed = Job.objects.create(task=SEND_BACK, kwargs={"account_id": 2}, key="account-send-back:2", status="failed")
    page = admin_client.get(reverse("admin:coachcrm_job_changelist")).content.decode()
    assert "Unsent: 2 (failed: 1)" in page
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:coachcrm_job_changelist"),
            {"action": "retry", ACTION_CHECKBOX_NAME: [waiting.pk, failed.pk]},
        )
    failed.refresh_from_db()
    assert failed.status == Job.Status.SENT  # run again (embedded); the waiting one is the relay's
    assert Job.objects.get(pk=waiting.pk).status == Job.Status.PENDING


def test_admin_job_list_is_for_admins_only(client, rep):
    client.force_login(rep)
    assert client.get(reverse("admin:coachcrm_job_changelist")).status_code == 302


# --- at-least-once settings and idempotent tasks --------------------------------------------


def test_celery_is_configured_for_at_least_once_delivery():
    app.loader.import_default_modules()
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert len(ours) >= 8
    longest = max(task.time_limit or conf.task_time_limit for task in ours)
    # A job still running when Redis's visibility timeout runs out would be handed to a second worker.
    assert conf.broker_transport_options["visibility_timeout"] > longest


def test_every_periodic_job_is_a_registered_task_and_the_relay_runs_every_30_seconds(settings):
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
    assert settings.CELERY_BEAT_SCHEDULE["jobs-relay"] == {"task": "coachcrm.tasks.jobs_relay_task", "schedule": 30}


def test_the_send_back_task_twice_sends_back_once(gated, stages):
    _coach, deal = gated
    Coach.objects.filter(pk=_coach.pk).update(status=Coach.Status.ENDED)
    task = app.tasks[SEND_BACK]
    assert task.apply(kwargs={"account_id": deal.account_id}).get() == 1
    assert task.apply(kwargs={"account_id": deal.account_id}).get() == 0
    assert StageChange.objects.filter(opportunity=deal, kind=StageChange.Kind.SENT_BACK).count() == 1


def test_the_lapse_task_twice_lapses_once(rep, settings):
    settings.COACH_LAPSE_DAYS = 120
    coach = factories.CoachFactory(holder=rep, established_on=timezone.localdate() - datetime.timedelta(days=400))
    Coach.objects.filter(pk=coach.pk).update(last_interaction_on=timezone.localdate() - datetime.timedelta(days=200))
    task = app.tasks["coaches.tasks.coaches_lapse_untouched_task"]
    assert task.apply().get() == 1
    assert task.apply().get() == 0


def test_the_relay_task_twice_sends_once(db, fake_broker):
    jobs.enqueue(SEND_BACK, key="account-send-back:1", account_id=1)
    task = app.tasks["coachcrm.tasks.jobs_relay_task"]
    assert task.apply().get()["sent"] == 1
    assert task.apply().get()["sent"] == 0
    assert len(fake_broker.sent) == 1


def test_prune_deletes_sent_jobs_past_the_retention_and_keeps_waiting_and_failed_ones(db, settings):
    settings.JOBS_RETENTION_DAYS = 14
    now = timezone.now()
    old, recent = now - datetime.timedelta(days=15), now - datetime.timedelta(days=13)

    def job(status, created_at, n):
        return Job.objects.create(task=SEND_BACK, key=f"k:{n}", status=status, created_at=created_at)

    for n in range(3):
        job(Job.Status.SENT, old, n)
    kept = {
        job(Job.Status.SENT, recent, 10).pk,
        job(Job.Status.PENDING, old, 11).pk,
        job(Job.Status.FAILED, old, 12).pk,
    }
    task = tasks.jobs_prune_task
    assert task.apply().get() == 3
    assert task.apply().get() == 0  # a second run deletes nothing
    assert set(Job.objects.values_list("pk", flat=True)) == kept


def test_prune_deletes_in_batches_a_fixed_number_of_queries_each(db, settings, django_assert_num_queries):
    settings.JOBS_RETENTION_DAYS = 1
    old = timezone.now() - datetime.timedelta(days=2)
    Job.objects.bulk_create(Job(task=SEND_BACK, key=f"k:{n}", status=Job.Status.SENT, created_at=old) for n in range(5))
    # Two batches of two and one of one: per batch a select and a delete, then the empty select.
    with django_assert_num_queries(7):
        assert bulk.delete_in_batches(Job.objects.filter(status=Job.Status.SENT), batch=2) == 5
