"""Smoke: the manager starts alice's departure over HTTP; the worker flags her single-threaded coaches.

Run by .ci/smoke.py with the gunicorn port as argv[1], with gunicorn, a Celery worker and beat
running on PostgreSQL and Redis and the demo organisation loaded. Exit code 0 when alice's
single-threaded coaches are flagged at risk within 30 seconds.
"""

import datetime
import importlib.util
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachcrm.settings")

spec = importlib.util.spec_from_file_location("smoke", ROOT / ".ci" / "smoke.py")
smoke = importlib.util.module_from_spec(spec)
spec.loader.exec_module(smoke)
smoke.PORT = int(sys.argv[1])

import django  # noqa: E402

django.setup()

from coaches.models import Coach  # noqa: E402
from team.models import User  # noqa: E402


def main() -> int:
    alice = User.objects.get(username="alice")
    single = set(Coach.objects.single_threaded().filter(holders__user=alice).values_list("pk", flat=True))
    assert single, "the demo gives alice single-threaded coaches"

    browser = smoke.Browser()
    browser.request("GET", "/login/")
    status, _, _ = browser.request("POST", "/login/", {"username": "manager", "password": "coachcrm-demo", "next": "/"})
    assert status == 302, f"login answered {status}"
    status, _, page = browser.request("GET", "/team/reps/")
    assert status == 200 and "Start departure" in page, status
    path = re.search(r'action="(/team/reps/\d+/departure/start/)"', page[page.index('data-testid="rep-alice"') :])
    assert path, "no Start departure form for alice on the team page"
    date = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    status, headers, _ = browser.request("POST", path.group(1), {"departure_date": date, "confirm": "on"})
    assert status == 302, f"starting the departure answered {status}"
    print("smoke: departure started over HTTP; waiting for the worker", flush=True)

    deadline = time.monotonic() + 30
    while True:
        flagged = set(Coach.objects.filter(pk__in=single, at_risk=True).values_list("pk", flat=True))
        if flagged == single:
            break
        if time.monotonic() > deadline:
            print(f"smoke: only {len(flagged)} of {len(single)} coaches flagged after 30s", file=sys.stderr)
            return 1
        time.sleep(0.5)
    status, _, page = browser.request("GET", headers.get("Location", path.group(1)))
    assert status == 200 and "Reassign" in page, status
    print(f"smoke: {len(single)} single-threaded coaches of alice flagged at risk, handovers open", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
