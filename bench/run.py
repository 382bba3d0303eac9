"""`make bench`: measure CoachCRM on the large organisation and print one JSON document.

Run as `python bench/run.py` (the Makefile does). Needs PostgreSQL in DATABASE_URL unless
--allow-sqlite. Seeds the organisation with `seed_scale` if it is not there yet.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachcrm.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from team.models import User  # noqa: E402

REQUESTS = 20


def _user(username):
    return User.objects.get(username=username)


def busiest_rep():
    """The rep with the most accounts: the heaviest realistic list."""
    from django.db.models import Count

    return User.objects.filter(role=User.Role.REP).annotate(n=Count("owned_accounts")).order_by("-n").first()


def leaver():
    """The rep seed_scale made the holder of 1,000 coaches, for the departure measurements."""
    from demo.management.commands.seed_scale import LEAVER

    return User.objects.select_related("manager").get(username=LEAVER)


def pages():
    """(name, url, user) for each main page; features add theirs here."""
    rep = busiest_rep()
    return [
        ("account list", "/accounts/", rep),
        ("contact list", "/accounts/contacts/", rep),
        ("account list (manager)", "/accounts/", rep.manager),
        ("coach list", "/coaches/", rep),
        ("coach list (manager)", "/coaches/", rep.manager),
        ("opportunity board", "/pipeline/", rep),
        ("opportunity list", "/pipeline/opportunities/", rep),
        ("opportunity list (manager)", "/pipeline/opportunities/", rep.manager),
        ("manager dashboard", "/pipeline/dashboard/", rep.manager),
        ("grant list", "/catalog/grants/", rep.manager),
        ("ledger", "/catalog/ledger/", rep.manager),
        ("today (home)", "/", rep),
        ("today (home, manager)", "/", rep.manager),
        # Three letters of an account name, as a rep types them; the page, not only the htmx answer.
        ("search", "/search/?q=bor", rep),
        ("search (manager)", "/search/?q=bor", rep.manager),
        ("search (admin)", "/search/?q=bor", _user("benchadmin")),
    ]


@contextlib.contextmanager
def rolled_back():
    """Run a job against the real data and undo it, so that every run measures the same thing."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def departure():
    """Flag the leaver's 1,000 coaches, then measure his departure page with the handovers open; undone."""
    from departures.services import departure_flag_at_risk

    user = leaver()
    results = {}
    with rolled_back():
        User.objects.filter(pk=user.pk).update(
            status=User.Status.LEAVING, departure_date=datetime.date.today() + datetime.timedelta(days=14)
        )
        results["departure flagging (1,000 coaches)"] = timed(
            lambda: {"coaches_held": user.coach_holdings.count(), "flagged": departure_flag_at_risk(user_id=user.pk)}
        )
        results["departure page"] = measure_page("departure page", f"/team/reps/{user.pk}/departure/", user.manager)
    return results


def stale_scan():
    """The nightly lapse of untouched coaches over all 15,000 (undone afterwards)."""
    from coaches.models import Coach
    from coaches.services import coaches_lapse_untouched

    with rolled_back():
        return timed(lambda: {"coaches": Coach.objects.count(), "lapsed": coaches_lapse_untouched()})


def contact_import(rows=10_000):
    """A 10,000-contact CSV through the csvio services: the dry run on upload, then the import (undone)."""
    from accounts.models import Account
    from csvio.services import import_batch_confirm, import_batch_create

    rep = busiest_rep()
    accounts = list(Account.objects.filter(owner=rep).values_list("name", flat=True)[:200])
    lines = ["first_name,last_name,email,account,title,start_date"]
    lines += [
        f"Bench,Imported{i:05d},imported{i:05d}@bench.example,{accounts[i % len(accounts)]},Buyer,2024-01-01"
        for i in range(rows)
    ]
    data = "\n".join(lines).encode()

    def run():
        batch = import_batch_create(by=rep, kind="contacts", filename="bench.csv", data=data)
        batch = import_batch_confirm(batch=batch, by=rep)
        return {"rows": rows, "imported": batch.status == batch.Status.IMPORTED}

    with rolled_back():
        return timed(run)


def measure_page(name, url, user):
    client = Client()
    client.force_login(user)
    client.get(url)  # warm caches and the connection
    timings = []
    queries = None
    for _ in range(REQUESTS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"bench: {url} answered {response.status_code} for {user}")
        queries = len(captured.captured_queries)
    timings.sort()
    return {
        "page": name,
        "url": url,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "queries": queries,
    }


def timed(function):
    """Run a job once: its time and query count."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        detail = function()
        elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 2), "queries": len(captured.captured_queries), **(detail or {})}


def jobs():
    """(name, callable) for the background jobs and imports; features add theirs here."""
    return [("stale-coach scan", stale_scan), ("contact import (10,000 rows)", contact_import)]


def _load(port, path, cookie, seconds, threads=8):
    counts = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def worker(index):
        connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
        if cookie:
            headers["Cookie"] = cookie
        while time.monotonic() < stop:
            try:
                connection_.request("GET", path, headers=headers)
                response = connection_.getresponse()
                response.read()
                if response.status == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection_.close()
                connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"requests_per_second": round(sum(counts) / seconds, 1), "errors": sum(errors)}


def throughput(url, user, seconds):
    """gunicorn with 2 workers: the page against the one-query health page, in the same run."""
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "team.backends.CrmBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    port = int(os.environ.get("BENCH_PORT", "8799"))
    env = {
        **os.environ,
        "DEBUG": "false",
        # The same key, so that gunicorn accepts the session made here.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "coachcrm.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/health/")
                break
            except OSError:
                time.sleep(0.25)
        _load(port, url, cookie, 2)  # warm up both workers
        page = _load(port, url, cookie, seconds)
        # The minimal page: one query, served by the same gunicorn through the same middleware
        # with the same session cookie, but no view work or template (see bench/README.md).
        minimal = _load(port, "/health/", cookie, seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    ratio = page["requests_per_second"] / minimal["requests_per_second"] if minimal["requests_per_second"] else 0
    return {"url": url, "page": page, "minimal_page": minimal, "ratio": round(ratio, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--seconds", type=int, default=20, help="Length of each throughput run.")
    parser.add_argument("--fraction", type=float, default=1.0, help="Seed a fraction of the full size.")
    arguments = parser.parse_args()
    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        raise SystemExit("bench: set DATABASE_URL to PostgreSQL (or pass --allow-sqlite to measure SQLite anyway).")
    if not User.objects.filter(username="benchadmin").exists():
        # Its progress goes to stderr, so that stdout is the JSON document alone.
        call_command("seed_scale", fraction=arguments.fraction, allow_sqlite=arguments.allow_sqlite, stdout=sys.stderr)
    settings.DEBUG = False
    # The jobs' e-mails never leave (their transactions are rolled back), but keep stdout pure JSON.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    logging.getLogger("axes").setLevel(logging.WARNING)
    results = {
        "database": connection.vendor,
        "pages": [measure_page(*page) for page in pages()],
        "jobs": {name: function() for name, function in jobs()},
    }
    flagging = departure()
    results["pages"].append(flagging.pop("departure page"))
    results["jobs"].update(flagging)
    rep = busiest_rep()
    results["throughput"] = throughput(throughput_url(), rep, arguments.seconds)
    output = json.dumps(results, indent=2)
    print(output)
    (ROOT / "bench" / "results.json").write_text(output + "\n")


def throughput_url():
    return "/pipeline/opportunities/"


if __name__ == "__main__":
    main()
