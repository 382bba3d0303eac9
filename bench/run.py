"""`make bench`: measure CoachCRM on a 1% organisation and the full one, print figure / target / result.

Run as `python bench/run.py` (the Makefile does). Needs PostgreSQL in DATABASE_URL unless
--allow-sqlite. Each organisation is measured by a child process of its own (`--org small` or
`--org full`): the full one in DATABASE_URL's database, the 1% one in a sibling database that
it creates (`<name>_small`), so one empty database is all it needs. Each child migrates first,
seeds with `seed_scale` if its organisation is not there yet, measures and prints its JSON; the
parent prints the table and writes bench/results.json.
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
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from team.models import User  # noqa: E402

REQUESTS = 20
# The targets (issue 21), at the full size: page medians of server time, in ms.
LIST_MS, BOARD_MS, DASHBOARD_MS = 25, 40, 50
MAX_GROWTH = 1.5
MIN_THROUGHPUT_RATIO = 0.25
FLAGGING_SECONDS = 1.0


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
    """(name, url, user, target in ms) for each main page; features add theirs here."""
    rep = busiest_rep()
    people = {"": rep, " (manager)": rep.manager, " (admin)": _user("benchadmin")}
    lists = [
        ("account list", "/accounts/"),
        ("contact list", "/accounts/contacts/"),
        ("coach list", "/coaches/"),
        ("opportunity list", "/pipeline/opportunities/"),
        ("grant list", "/catalog/grants/"),
        ("ledger", "/catalog/ledger/"),
        ("today (home)", "/"),
        # Three letters of an account name, as a rep types them; the page, not only the htmx answer.
        ("search", "/search/?q=bor"),
    ]
    today = datetime.date.today()
    year_ago = today - datetime.timedelta(days=365)
    return [
        *((f"{name}{who}", url, user, LIST_MS) for name, url in lists for who, user in people.items()),
        ("opportunity board", "/pipeline/", rep, BOARD_MS),
        ("opportunity board (manager)", "/pipeline/", rep.manager, BOARD_MS),
        ("manager dashboard", "/pipeline/dashboard/", rep.manager, DASHBOARD_MS),
        ("manager dashboard, last 12 months", f"/pipeline/dashboard/?start={year_ago}&end={today}", rep.manager,
         DASHBOARD_MS),
        ("manager dashboard, all time", f"/pipeline/dashboard/?start=2000-01-01&end={today}", rep.manager,
         DASHBOARD_MS),
        # The views above after the first are served from the report cache (coachcrm.versions); these
        # compute every time, as the first view after a write to what the dashboard reads does.
        ("dashboard uncached", "/pipeline/dashboard/", rep.manager, DASHBOARD_MS, True),
        ("dashboard uncached, 12 months", f"/pipeline/dashboard/?start={year_ago}&end={today}", rep.manager,
         DASHBOARD_MS, True),
        ("dashboard uncached, all time", f"/pipeline/dashboard/?start=2000-01-01&end={today}", rep.manager,
         DASHBOARD_MS, True),
    ]  # fmt: skip


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
        results["departure page"] = measure_page(
            "departure page (manager)", f"/team/reps/{user.pk}/departure/", user.manager, LIST_MS
        )
    return results


def stale_scan():
    """The nightly lapse of untouched coaches over all 15,000 (undone afterwards)."""
    from coaches.models import Coach
    from coaches.services import coaches_lapse_untouched

    with rolled_back():
        return timed(lambda: {"coaches": Coach.objects.count(), "lapsed": coaches_lapse_untouched()})


def contact_import(rows=10_000):
    """A contacts CSV of `rows` new people through the csvio services and jobs (bench/import_confirm.py), undone.

    The figure is the confirmation's job (the import itself); the dry run's is beside it.
    """
    from bench.import_confirm import measure

    steps = measure(rows)
    if not steps["imported"]:
        raise RuntimeError(f"the file was not imported: {steps['counts']}")
    confirm = steps["confirm (job)"]
    return {
        **confirm,
        "rows": rows,
        "ms_per_row": round(confirm["seconds"] * 1000 / rows, 2),
        "dry_run": steps["dry run"],
    }


def measure_page(name, url, user, target_ms, uncached=False):
    """The page's median server time; `uncached`: with the report cache off (REPORT_CACHE_SECONDS 0)."""
    if uncached:
        with override_settings(REPORT_CACHE_SECONDS=0):
            return measure_page(name, url, user, target_ms)
    requests = int(os.environ.get("BENCH_REQUESTS", REQUESTS))
    client = Client()
    client.force_login(user)
    client.get(url)  # warm caches and the connection
    timings = []
    queries = None
    for _ in range(requests):
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
        "target_ms": target_ms,
        # The machine is shared: the 1-minute load average when the page was measured.
        "load": round(os.getloadavg()[0], 1),
    }


def timed(function):
    """Run a job once: its time and query count."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        detail = function()
        elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 2),
        "queries": len(captured.captured_queries),
        "load": round(os.getloadavg()[0], 1),
        **(detail or {}),
    }


IMPORT_SECONDS = 300  # issue 20/21: 200,000 rows confirm in under 5 minutes


def import_job_name(rows: int) -> str:
    return f"contact import ({rows:,} rows)"


def jobs():
    """(name, callable) for the background jobs and imports; features add theirs here."""
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
    return [("stale-coach scan", stale_scan), (import_job_name(rows), lambda: contact_import(rows))]


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
    load = round(os.getloadavg()[0], 1)
    return {"url": url, "page": page, "minimal_page": minimal, "ratio": round(ratio, 3), "load": load}


def use_org(org):
    """Point this process's connection at the organisation's database (before any query), migrated.

    The full organisation is DATABASE_URL's database; the small one a sibling named `<name>_small`
    (on SQLite `<file>-small.sqlite3`), created here if absent, so that each has its own tables,
    statistics and plans, as two customers of these sizes would.
    """
    database = settings.DATABASES["default"]
    if org == "small":
        if connection.vendor == "postgresql":
            name = f"{database['NAME']}_small"
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        else:
            path = Path(database["NAME"])
            name = str(path.with_name(f"{path.stem}-small{path.suffix}"))
        connection.close()
        database["NAME"] = name
    # A new database has no tables yet: migrate first, quietly (stdout is the JSON).
    call_command("migrate", interactive=False, verbosity=0, stdout=sys.stderr)


def measure_org(arguments):
    """The child's work: migrate, seed if needed, measure every page (and, at full size, the jobs)."""
    fraction = arguments.small_fraction if arguments.org == "small" else arguments.fraction
    use_org(arguments.org)
    if not User.objects.filter(username="benchadmin").exists():
        started = time.perf_counter()
        call_command("seed_scale", fraction=fraction, allow_sqlite=arguments.allow_sqlite, stdout=sys.stderr)
        print(
            f"bench: seeded the {arguments.org} organisation in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
    if connection.vendor == "postgresql":
        # Seeding, and a previous run's rolled-back jobs (the 200,000-row import leaves as many dead
        # contacts and positions), leave dead rows and stale statistics that a real install's
        # autovacuum would have cleared: measure the plans it would have.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"bench: vacuumed the {arguments.org} organisation in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    settings.DEBUG = False
    # The jobs' e-mails never leave (their transactions are rolled back), but keep stdout pure JSON.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    logging.getLogger("axes").setLevel(logging.WARNING)
    from pipeline.models import Opportunity

    results = {
        "org": arguments.org,
        "database": connection.vendor,
        "opportunities": Opportunity.objects.count(),
        "pages": [measure_page(*page) for page in pages()],
        "jobs": {},
    }
    flagging = departure()
    results["pages"].append(flagging.pop("departure page"))
    results["jobs"].update(flagging)
    if arguments.org == "full":
        for name, function in jobs():
            try:
                results["jobs"][name] = function()
            except Exception as error:  # one failing job must not lose every other figure
                results["jobs"][name] = {"error": f"{type(error).__name__}: {error}"}
        results["throughput"] = throughput(throughput_url(), busiest_rep(), arguments.seconds)
    print(json.dumps(results))


def _met(ok: bool) -> str:
    return "met" if ok else "MISS"


def report(small: dict, full: dict) -> str:
    """The one-screen table: figure, target, result at 1% and at full size, growth, queries, load, met."""
    lines = [
        f"{'figure':<38} {'target':>8} {'1%':>7} {'full':>7} {'growth':>6} {'queries':>7} {'load':>5}  met",
    ]
    before = {page["page"]: page for page in small["pages"]}
    misses = []
    for page in full["pages"]:
        one = before[page["page"]]
        growth = page["median_ms"] / one["median_ms"] if one["median_ms"] else 0
        queries = f"{one['queries']}/{page['queries']}"
        ok = page["median_ms"] < page["target_ms"] and growth <= MAX_GROWTH and one["queries"] == page["queries"]
        if not ok:
            misses.append(page["page"])
        lines.append(
            f"{page['page']:<38} {'<' + str(page['target_ms']) + ' ms':>8} {one['median_ms']:>7.1f} "
            f"{page['median_ms']:>7.1f} {growth:>6.2f} {queries:>7} {page['load']:>5}  {_met(ok)}"
        )
    flagging, small_flagging = (org["jobs"]["departure flagging (1,000 coaches)"] for org in (full, small))
    ok = flagging["seconds"] < FLAGGING_SECONDS
    lines.append(
        f"{'departure flagging, 1,000 coaches':<38} {'<1 s':>8} {small_flagging['seconds']:>6.2f}s "
        f"{flagging['seconds']:>6.2f}s {'':>6} {flagging['queries']:>7} {flagging['load']:>5}  {_met(ok)}"
    )
    if not ok:
        misses.append("departure flagging")
    for name in ("stale-coach scan", import_job_name(int(os.environ.get("BENCH_IMPORT_ROWS", "10000")))):
        job = full["jobs"][name]
        if "error" in job:
            lines.append(f"{name:<38} failed: {job['error'][:70]}")
            continue
        # The import target is for 200,000 rows; a smaller file shows its cost per row.
        target = f"<{IMPORT_SECONDS} s" if job.get("rows", 0) >= 200_000 else ""
        line = f"{name:<38} {target:>8} {'':>7} {job['seconds']:>6.2f}s {'':>6} {job['queries']:>7} {job['load']:>5}"
        if target:
            ok = job["seconds"] < IMPORT_SECONDS
            line += f"  {_met(ok)}"
            if not ok:
                misses.append("200,000-row import")
        if "ms_per_row" in job:
            line += f"   ({job['ms_per_row']} ms a row; dry run {job['dry_run']['seconds']} s)"
        lines.append(line)
    if "throughput" in full:
        rate = full["throughput"]
        ok = rate["ratio"] >= MIN_THROUGHPUT_RATIO
        lines.append(
            f"{'opportunity list / health throughput':<38} {'>=25%':>8} {'':>7} {rate['ratio']:>7.0%} {'':>6} "
            f"{'':>7} {rate['load']:>5}  {_met(ok)}   ({rate['page']['requests_per_second']} vs "
            f"{rate['minimal_page']['requests_per_second']} req/s)"
        )
        if not ok:
            misses.append("throughput")
    lines.append(
        f"sizes: {small['opportunities']:,} and {full['opportunities']:,} deals; "
        f"medians of {os.environ['BENCH_REQUESTS']} requests; "
        f"growth = full / 1%; load = 1-minute load average; "
        + ("every target met" if not misses else f"{len(misses)} missed (MISS above)")
    )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--allow-sqlite", action="store_true")
    parser.add_argument("--seconds", type=int, default=20, help="Length of each throughput run.")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="Requests per page (the median of them).")
    parser.add_argument("--fraction", type=float, default=1.0, help="Seed the full organisation at this fraction.")
    parser.add_argument("--small-fraction", type=float, default=0.01, help="The small organisation's fraction.")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=10_000,
        help="Rows of the contact import job (200000 measures the issue's 200,000-row confirm; minutes).",
    )
    parser.add_argument("--org", choices=["small", "full"], help=argparse.SUPPRESS)  # a child's one organisation
    arguments = parser.parse_args()
    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        raise SystemExit("bench: set DATABASE_URL to PostgreSQL (or pass --allow-sqlite to measure SQLite anyway).")
    os.environ["BENCH_REQUESTS"] = str(arguments.requests)
    os.environ["BENCH_IMPORT_ROWS"] = str(arguments.import_rows)
    if arguments.org:
        measure_org(arguments)
        return
    # One child per organisation: each connects to its own data from its first query, and no
    # cache of one organisation's rows (stages, content types) leaks into the other's figures.
    results = {}
    for org in ("small", "full"):
        child = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--org", org], cwd=ROOT, stdout=subprocess.PIPE, check=False
        )
        if child.returncode:
            raise SystemExit(f"bench: measuring the {org} organisation failed (exit {child.returncode})")
        results[org] = json.loads(child.stdout.decode().strip().splitlines()[-1])
    results["table"] = report(results["small"], results["full"])
    print(results["table"])
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")


def throughput_url():
    return "/pipeline/opportunities/"


if __name__ == "__main__":
    main()
