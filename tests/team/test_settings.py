import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    unset = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_missing_secret_key_with_debug_off_names_the_variable():
    result = _manage("check", DEBUG="false", ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="false", SECRET_KEY="x" * 64 + "-production-secret-for-tests", ALLOWED_HOSTS="crm.example.com",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.postgres
def test_postgres_connections_run_without_jit(db):
    """JIT compilation cost the board 1.5 s for a few hundred rows: the app's sessions switch it off."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.redis
def test_cache_url_gives_every_process_one_cache():
    """With CACHE_URL (Redis) what one worker counts another sees; without it each keeps its own."""
    from tests.conftest import REDIS_URL

    cache_url = REDIS_URL.rsplit("/", 1)[0] + "/6"
    key = f"shared-{uuid.uuid4().hex}"
    write = f"from django.core.cache import cache; cache.set('{key}', 'seen', 60)"
    read = f"from django.core.cache import cache; print(cache.get('{key}'))"
    assert _manage("shell", "--no-imports", "-c", write, CACHE_URL=cache_url).returncode == 0
    assert _manage("shell", "--no-imports", "-c", read, CACHE_URL=cache_url).stdout.strip() == "seen"
    assert _manage("shell", "--no-imports", "-c", read).stdout.strip() == "None"
