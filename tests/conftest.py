"""Shared fixtures, and the rule for tests that need a service.

A test marked `redis`, `browser` or `gettext` skips with a clear reason when that service is absent on
a developer's machine, and fails instead under CI (CI=true), where every service must be
there. Tests marked `postgres` run only when the suite runs against PostgreSQL; on SQLite
they are deselected, not skipped, since that run is not missing anything; `sqlite` tests
likewise run only on SQLite.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import translation

from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0"


def _redis_available() -> str | None:
    url = urlparse(REDIS_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=1):
            return None
    except OSError as error:
        return f"Redis is not reachable at {REDIS_URL} ({error})"


def _browser_available() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def _gettext_available() -> str | None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msgattrib") if shutil.which(tool) is None]
    return f"GNU gettext's {', '.join(missing)} not found (apt-get install gettext)" if missing else None


SERVICE_CHECKS = {"redis": _redis_available, "browser": _browser_available, "gettext": _gettext_available}


def pytest_collection_modifyitems(config, items):
    # Tests for one database's behaviour run in that database's pass and are deselected in
    # the other: nothing is missing there, so they must not count as skipped.
    other = "sqlite" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "postgres"
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(autouse=True)
def _require_services(request):
    for name, check in SERVICE_CHECKS.items():
        if request.node.get_closest_marker(name) is None:
            continue
        problem = check()
        if problem:
            if IN_CI:
                pytest.fail(f"CI needs this service: {problem}")
            pytest.skip(problem)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_required_second_factor(settings):
    """Admins in tests log in with a password alone; tests/team/test_mfa.py turns the requirement on."""
    settings.MFA_REQUIRED_ROLES = []


@pytest.fixture
def manager(db):
    return factories.ManagerFactory()


@pytest.fixture
def rep(manager):
    return factories.RepFactory(manager=manager)


@pytest.fixture
def other_rep(db):
    return factories.RepFactory(manager=factories.ManagerFactory())


@pytest.fixture
def admin_user(db):
    return factories.AdminFactory()


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def client_for(db):
    """`client_for(user)`: a test client of its own, logged in as `user`. `rep_client` and
    `manager_client` are the one `client` fixture, so a test that takes both is the last one's."""
    from django.test import Client

    def logged_in(user):
        client = Client()
        client.force_login(user)
        return client

    return logged_in


@pytest.fixture
def stages(db):
    """The default pipeline stages by name (Lead, Qualified, Coach confirmed, …, Won, Lost)."""
    return factories.default_stages()


@pytest.fixture
def loss_reason(db):
    """A loss reason of the default list (a move to a lost stage needs one)."""
    from pipeline.models import LossReason

    return LossReason.objects.get_or_create(name="Price", defaults={"order": 10})[0]


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in-process in tests, also when CELERY_BROKER_URL points at Redis (the PostgreSQL run).

    Tests marked `redis` keep the configured broker.
    """
    from coachcrm.celery import app

    if request.node.get_closest_marker("redis") is not None:
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


class FakeBroker:
    """Stands in for Redis: while `down`, every publish is refused as kombu refuses it when it cannot connect."""

    def __init__(self):
        self.down = False
        self.sent = []
        self.task_ids = []

    def send_task(self, name, kwargs=None, **options):
        from kombu.exceptions import OperationalError

        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, kwargs))
        self.task_ids.append(options.get("task_id"))


@pytest.fixture
def fake_broker(monkeypatch):
    """Jobs go to a fake broker instead of running eagerly (`fake_broker.down = True` for an outage)."""
    from coachcrm import jobs
    from coachcrm.celery import app

    fake = FakeBroker()
    monkeypatch.setattr(app, "send_task", fake.send_task)
    monkeypatch.setattr(jobs, "_broker_paused_until", 0.0)
    previous, app.conf.task_always_eager = app.conf.task_always_eager, False
    yield fake
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    # API rate limits count in the cache; each test starts with none spent.
    from django.core.cache import cache

    cache.clear()
    # A test's writes are never committed, so they bump no data version (coachcrm.versions): a
    # report cached before them would be served after. tests/coachcrm/test_versions.py turns
    # the cache on where it tests it, with the commits' callbacks run.
    settings.REPORT_CACHE_SECONDS = 0


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token_client(api_client):
    """`token_client(user)`: an API client sending a token of the user, as an integration would
    (one token per user and test: asking again for the same user sends the same token)."""
    from knox.models import AuthToken

    tokens = {}

    def as_user(user):
        if user.pk not in tokens:
            tokens[user.pk] = AuthToken.objects.create(user=user)[1]
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[user.pk]}")
        return api_client

    return as_user


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request with a Chinese browser or a user's
    saved choice activates Chinese on the thread, and it would stay for the next test."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
