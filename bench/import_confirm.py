"""A large contacts import measured alone: the dry run and the confirm, as the background job runs them.

    DATABASE_URL=postgres://…/coachcrm_bench python bench/import_confirm.py --rows 200000

Needs an organisation seeded by `manage.py seed_scale` (the bench's). Generates a contacts
file of new people at the busiest rep's accounts (`make bench`'s generator, any size), then
runs `import_batch_create` (queued: the file is large) and the job `import_batch_run` for its
dry run, `import_batch_confirm` and the job again for the import, inside one transaction that
is rolled back, so every run measures the same data. Prints one JSON line: seconds and queries
of each step, rows imported, the load average. `--profile FILE` writes the confirm's cProfile
statistics (`python -m pstats FILE`).
"""

import argparse
import contextlib
import cProfile
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachcrm.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402


def contacts_file(rows: int) -> bytes:
    """`rows` new people at the busiest rep's first 200 accounts (the bench's contacts file)."""
    from accounts.models import Account
    from bench.run import busiest_rep

    rep = busiest_rep()
    accounts = list(Account.objects.filter(owner=rep).order_by("pk").values_list("name", flat=True)[:200])
    lines = ["first_name,last_name,email,account,title,start_date"]
    # The process id in the e-mails: two runs at once (rolled back each) never wait on each other's rows.
    tag = os.getpid()
    lines += [
        f"Bench,Imported{i:06d},imported{i:06d}.{tag}@bench.example,{accounts[i % len(accounts)]},Buyer,2024-01-01"
        for i in range(rows)
    ]
    return "\n".join(lines).encode()


class Counter:
    """Counts the queries through the connection (CaptureQueriesContext would keep every SQL text)."""

    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def step(function, profile=None):
    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        result = function()
        if profile is not None:
            profile.disable()
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "queries": counter.queries, "load": round(os.getloadavg()[0], 1)}, result


def measure(rows: int, profile_path: str | None = None) -> dict:
    from bench.run import busiest_rep
    from csvio.models import ImportBatch
    from csvio.services import import_batch_confirm, import_batch_create, import_batch_run

    rep = busiest_rep()
    data = contacts_file(rows)
    results = {"rows": rows, "bytes": len(data), "database": connection.vendor}
    profile = cProfile.Profile() if profile_path else None
    # The file's size is over the upload limit at 200,000 rows (~16 MB): measured all the same.
    with override_settings(CSV_IMPORT_MAX_BYTES=len(data) + 1), transaction.atomic():
        results["upload"], batch = step(
            lambda: import_batch_create(by=rep, kind="contacts", filename="bench.csv", data=data)
        )
        results["dry run"], _status = step(lambda: import_batch_run(batch_id=batch.pk))
        batch.refresh_from_db()
        if not batch.report.get("ok"):
            raise SystemExit(f"bench: the dry run refused the file: {batch.status} {str(batch.report)[:600]}")
        results["confirm (request)"], batch = step(lambda: import_batch_confirm(batch=batch, by=rep))
        results["confirm (job)"], _status = step(lambda: import_batch_run(batch_id=batch.pk), profile)
        batch.refresh_from_db()
        results["imported"] = batch.status == ImportBatch.Status.IMPORTED
        results["counts"] = batch.report.get("counts")
        transaction.set_rollback(True)
    if profile is not None:
        profile.dump_stats(profile_path)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--profile", help="Write the confirm's cProfile statistics to this file.")
    arguments = parser.parse_args()
    settings.DEBUG = False
    with contextlib.redirect_stdout(sys.stderr):
        results = measure(arguments.rows, arguments.profile)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
