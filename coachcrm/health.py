# Readiness: can this process serve — its database, its broker and its cache, each checked on its own.
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from coachcrm.celery import app

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "embedded"  # no broker: tasks run in-process
    with app.connection_for_write() as conn:
        # One try, no backoff: a load balancer asks often and must get its answer quickly.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    return "ok"


def _cache() -> None:
    cache.set("health:ready", "1", 10)
    if cache.get("health:ready") != "1":
        raise RuntimeError("the cache did not keep a value")


def readiness() -> dict[str, str]:
    """Each dependency: "ok" (or "embedded"), else "down: <why>"; the process is ready when none is down."""
    checks = {"database": _database, "broker": _broker, "cache": _cache}
    answers = {}
    for name, check in checks.items():
        try:
            answers[name] = check() or "ok"
        except Exception as error:
            logger.warning("Readiness: the %s is down: %s", name, error)
            answers[name] = f"down: {type(error).__name__}"
    return answers
