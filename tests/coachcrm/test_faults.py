"""Faults for real: the broker stopped mid-write, a worker's pool process killed mid-job, the cache down.

The broker is a private `redis-server` on its own port, started and stopped here (the shared
Redis is never touched). Each test stays well under 20 s.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from coachcrm import jobs
from coachcrm.celery import app
from coachcrm.models import Job
from coaches.models import Coach, CoachMove
from pipeline.models import Opportunity, StageChange
from team.models import Email
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SEND_BACK = "pipeline.tasks.account_send_back_task"
BROKER_KEYS = ("broker_read_url", "broker_write_url", "task_always_eager")
REDIS_SERVER, REDIS_CLI = shutil.which("redis-server"), shutil.which("redis-cli")


def _free_port() -> int:
    # PRIVATE_REDIS_PORT pins the port (a machine shared with other runs: each its own); else the
    # first free one in 6391..6399.
    pinned = os.environ.get("PRIVATE_REDIS_PORT")
    for port in [int(pinned)] if pinned else range(6391, 6400):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.fail(f"no free port {pinned or 'in 6391..6399'} for a private Redis")


class PrivateRedis:
    """A redis-server of this test's own: stopping it is an outage nobody else sees."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        ping = subprocess.run([REDIS_CLI, "-p", str(self.port), "ping"], capture_output=True, text=True)
        return ping.stdout.strip() == "PONG"

    def start(self) -> None:
        subprocess.run(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes"],
            check=True, capture_output=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self._ping():
            if time.monotonic() > deadline:
                pytest.fail(f"the private Redis on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run([REDIS_CLI, "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        deadline = time.monotonic() + 10
        while self._ping():
            if time.monotonic() > deadline:
                pytest.fail(f"the private Redis on port {self.port} did not stop")
            time.sleep(0.05)


def _reconnect() -> None:
    # Drop the cached connection and producer pools, so the next publish uses the new URL.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def private_redis():
    if not (REDIS_SERVER and REDIS_CLI):
        reason = "redis-server is not installed (apt-get install redis-server)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    redis = PrivateRedis()
    redis.start()
    previous = {key: app.conf[key] for key in BROKER_KEYS}
    # The read and write URLs: they win over broker_url, which a CELERY_BROKER_URL from the
    # environment shadows (the Django settings namespace) whatever is set here.
    app.conf.update(broker_read_url=redis.url, broker_write_url=redis.url, task_always_eager=False)
    _reconnect()
    jobs._broker_paused_until = 0.0
    try:
        yield redis
    finally:
        app.conf.update(previous)
        _reconnect()
        jobs._broker_paused_until = 0.0  # the outage is over for the tests that follow
        redis.stop()


@pytest.fixture
def start_worker():
    """`start_worker()`: Celery's test worker in a thread, consuming from the (private) broker."""
    from celery.contrib.testing.worker import start_worker as celery_test_worker

    def close_connections(**kwargs):
        connections.close_all()  # the worker thread's own, or teardown finds the test database busy

    running = []

    def start():
        task_postrun.connect(close_connections, weak=False)
        worker = celery_test_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10)
        worker.__enter__()
        running.append(worker)

    yield start
    for worker in running:
        worker.__exit__(None, None, None)
    task_postrun.disconnect(close_connections)


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not done within {timeout}s")
        time.sleep(0.1)


def _relay_until_sent(timeout: float = 10.0) -> None:
    # What beat's jobs-relay does every 30 s, called here until the broker takes everything.
    wait_for(lambda: jobs.relay() is not None and not Job.objects.unsent().exists(), timeout)


@pytest.fixture
def coached(stages):
    rep = factories.RepFactory(manager=factories.ManagerFactory())
    factories.ProductLineFactory(name="Cloud")
    account = factories.AccountFactory(owner=rep, name="Old Works")
    coach = factories.CoachFactory(account=account, holder=rep)
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Negotiation"])
    return rep, coach, deal


def _sent_back(deal) -> int:
    return StageChange.objects.filter(opportunity=deal, kind=StageChange.Kind.SENT_BACK).count()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_while_ending_the_last_coach_delays_the_send_back_and_loses_nothing(
    client, coached, stages, private_redis, start_worker
):
    rep, coach, deal = coached
    client.force_login(rep)
    private_redis.stop()
    response = client.post(
        reverse("coaches:coach-status", args=[coach.pk]), {"status": "ended", "reason": "left us"}, follow=True
    )
    assert response.status_code == 200
    assert any("follow-up work is delayed" in str(m) for m in response.context["messages"])
    assert Coach.objects.get(pk=coach.pk).status == Coach.Status.ENDED
    assert Job.objects.get(task=SEND_BACK).status == Job.Status.PENDING and _sent_back(deal) == 0

    private_redis.start()
    start_worker()
    _relay_until_sent()
    wait_for(lambda: _sent_back(deal) == 1)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualified"]
    jobs.relay()  # nothing left to send: still once
    time.sleep(0.5)
    assert _sent_back(deal) == 1 and Job.objects.get(task=SEND_BACK).status == Job.Status.SENT


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_while_recording_a_coach_move_opens_the_prospect_once_it_is_back(
    token_client, coached, private_redis, start_worker
):
    rep, coach, deal = coached
    private_redis.stop()
    response = token_client(rep).post(
        reverse("api:contact-move", args=[coach.contact_id]),
        {"account_name": "Blue Harbour", "title": "CIO", "start_date": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 200 and response.json()["jobs_delayed"] is True
    assert not CoachMove.objects.exists()

    private_redis.start()
    start_worker()
    _relay_until_sent()
    wait_for(lambda: Opportunity.objects.filter(account__name="Blue Harbour").exists() and _sent_back(deal) == 1)
    jobs.relay()
    time.sleep(0.5)
    assert CoachMove.objects.count() == 1 and Opportunity.objects.filter(account__name="Blue Harbour").count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_during_a_job_change_batch_applies_all_three_and_runs_each_follow_up_once(
    token_client, coached, private_redis, start_worker
):
    rep, _coach, _deal = coached
    coaches = [factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep) for _ in range(3)]
    changes = [
        {
            "contact": c.contact_id,
            "company": f"New Co {i}",
            "title": "VP",
            "start_date": timezone.localdate().isoformat(),
        }
        for i, c in enumerate(coaches)
    ]
    private_redis.stop()
    response = token_client(rep).post(reverse("api:job-changes"), {"changes": changes}, format="json")
    assert response.status_code == 200, response.json()
    assert [r["result"] for r in response.json()["results"]] == ["applied"] * 3
    assert response.json()["jobs_delayed"] is True
    assert Job.objects.filter(task="coaches.tasks.coach_moved_task").count() == 3

    private_redis.start()
    start_worker()
    _relay_until_sent()
    wait_for(lambda: CoachMove.objects.count() == 3)
    jobs.relay()
    time.sleep(0.5)
    assert CoachMove.objects.count() == 3
    assert Opportunity.objects.filter(account__name__startswith="New Co").count() == 3


# --- a pool process killed mid-job (kill -9, as the OOM killer does) -------------------------


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _lock_waiters() -> set[int]:
    # The database sessions waiting on a row lock: a job inside its transaction, held by the test.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_job_gets_the_job_redelivered_and_done_once(coached, private_redis):
    _rep, coach, deal = coached
    Coach.objects.filter(pk=coach.pk).update(status=Coach.Status.ENDED)
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": private_redis.url,
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "coachcrm", "worker", "--pool=prefork", "--concurrency=1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    locked, release = threading.Event(), threading.Event()

    def hold_the_account():
        # Keeps the job inside its transaction: account_send_back locks this row first.
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=deal.account_id)
            locked.set()
            release.wait(300)  # until the test releases it (set in its finally, too)
        connections.close_all()

    holder = threading.Thread(target=hold_the_account)
    holder.start()
    try:
        assert locked.wait(10)
        jobs.enqueue(SEND_BACK, key=f"account-send-back:{deal.account_id}", account_id=deal.account_id)
        assert Job.objects.get().status == Job.Status.SENT
        # The pool process is inside the job, waiting on the lock. A worker boots in seconds, but
        # on a loaded CI machine it has taken more than 15: the wait is generous, a pass is not slower.
        wait_for(lambda: len(_lock_waiters()) == 1, timeout=120)
        first = _lock_waiters()
        (pool_process,) = _children(worker.pid)
        os.kill(pool_process, signal.SIGKILL)
        # Requeued on the worker's loss (task_reject_on_worker_lost) and taken by the new pool process,
        # whose session waits too (the killed one's lingers until it gets the lock, then finds its client gone).
        wait_for(lambda: _lock_waiters() - first, timeout=60)
        release.set()
        wait_for(lambda: _sent_back(deal) == 1, timeout=60)
        time.sleep(1)
        assert _sent_back(deal) == 1
    finally:
        release.set()
        holder.join(10)
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


# --- the cache down ------------------------------------------------------------------------


def _dead_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there once the probe is closed


def _dead_cache() -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _dead_redis_url(),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_cache_down_the_api_still_answers_and_readiness_names_the_cache(client, token_client, rep, settings):
    settings.CACHES = _dead_cache()
    assert token_client(rep).get(reverse("api:account-list")).status_code == 200
    login = client.post(reverse("api:auth-token"), {"username": rep.username, "password": "pw-for-tests"})
    assert login.status_code in (200, 201), login.content
    assert client.get(reverse("health")).status_code == 200  # liveness: the process answers

    ready = client.get(reverse("health-ready"))
    assert ready.status_code == 503
    assert ready.json()["down"] == ["cache"] and ready.json()["checks"]["database"] == "ok"


def test_cache_down_a_user_signs_in_and_stays_signed_in(client, rep, settings):
    # Sessions are in the database (SESSION_ENGINE): the cache going away signs nobody out.
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    settings.CACHES = _dead_cache()
    assert client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"}).status_code == 302
    assert client.get(reverse("accounts:account-list")).status_code == 200
    assert client.get(reverse("accounts:account-list")).wsgi_request.user == rep


def test_cache_down_a_large_import_still_runs_and_its_pages_answer(rep_client, rep, settings):
    from csvio import services as import_services
    from csvio import tasks as import_tasks
    from csvio.models import ImportBatch

    settings.CACHES = _dead_cache()  # the import's progress bar lives in the cache
    settings.CSV_IMPORT_BACKGROUND_ROWS = 2  # a background job, with its progress
    factories.RegionFactory(name="North")
    factories.IndustryFactory(name="Retail")
    text = "name,region,industry\n" + "".join(f"Company {i},North,Retail\n" for i in range(5))
    batch = import_services.import_batch_create(by=rep, kind="accounts", filename="big.csv", data=text.encode())
    assert import_tasks.import_batch_run_task(batch.pk) == ImportBatch.Status.PENDING  # the dry run
    batch = import_services.import_batch_confirm(batch=ImportBatch.objects.get(pk=batch.pk), by=rep)
    for page in ("csvio:import-detail", "csvio:import-progress"):
        assert rep_client.get(reverse(page, args=[batch.pk])).status_code == 200
    assert import_tasks.import_batch_run_task(batch.pk) == ImportBatch.Status.IMPORTED
    assert Account.objects.filter(name__startswith="Company ").count() == 5


def test_readiness_answers_200_when_everything_is_up(client, db):
    ready = client.get(reverse("health-ready"))
    assert ready.status_code == 200 and ready.json() == {
        "ready": True,
        "down": [],
        "checks": {"database": "ok", "broker": "embedded" if not settings.CELERY_BROKER_URL else "ok", "cache": "ok"},
    }


def test_readiness_names_the_broker_when_it_is_down(client, db, settings):
    previous = app.conf["broker_write_url"]  # the key as set (usually None), not the URL derived from it
    settings.CELERY_BROKER_URL = _dead_redis_url()
    app.conf.update(broker_write_url=settings.CELERY_BROKER_URL)
    _reconnect()
    try:
        ready = client.get(reverse("health-ready"))
    finally:
        app.conf.update(broker_write_url=previous)
        _reconnect()
    assert ready.status_code == 503 and ready.json()["down"] == ["broker"]


@pytest.fixture
def private_cache(settings):
    """The cache on a private redis-server (stopped by the test: an outage nobody else sees)."""
    if not (REDIS_SERVER and REDIS_CLI):
        reason = "redis-server is not installed (apt-get install redis-server)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    redis = PrivateRedis()
    redis.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    try:
        yield redis
    finally:
        redis.stop()


@pytest.mark.redis
def test_cache_down_password_reset_fails_open_and_logins_still_lock_out(
    client, rep, private_cache, settings, django_capture_on_commit_callbacks
):
    def ask_reset():
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": rep.email})

    # With the cache up the limit counts: the sixth request of the hour is refused.
    assert [ask_reset().status_code for _i in range(6)] == [302] * 5 + [429]
    private_cache.stop()
    queued = Email.objects.filter(recipient=rep.email).count()
    response = ask_reset()
    assert response.status_code == 302  # through, uncounted: never a 500
    # The reset e-mail is kept for its job (sent in-process when embedded, by the worker with a broker).
    assert Email.objects.filter(recipient=rep.email).count() == queued + 1

    # Sign-in and its lock-out count in the database (django-axes), not in the cache.
    assert client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"}).status_code == 302
    client.logout()
    answers = [
        client.post(reverse("login"), {"username": rep.username, "password": "wrong"}).status_code
        for _i in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers[-1] == 429 and 500 not in answers
    locked = client.post(reverse("login"), {"username": rep.username, "password": "pw-for-tests"})
    assert locked.status_code == 429
    token = client.post(reverse("api:auth-token"), {"username": rep.username, "password": "pw-for-tests"})
    assert token.status_code == 429 and token.json()["code"] == "locked_out"
