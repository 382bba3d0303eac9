"""Smoke: Redis stopped while the admin ends an account's last coach over HTTP; nothing is lost.

Run by .ci/smoke.py with the gunicorn port as argv[1]. Stops the smoke test's own Redis (broker
and cache), ends the coach (the page must answer and say the follow-up is delayed), starts Redis
again and waits for the account's gated deals to be sent back by the relay. Exit code 0 when
they are, within 90 seconds of Redis coming back.
"""

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

from django.db.models import Count, Q  # noqa: E402

from coachcrm.models import Job  # noqa: E402
from coaches.models import Coach  # noqa: E402
from pipeline.models import Opportunity, StageChange  # noqa: E402


def main() -> int:
    coach = (
        Coach.objects.active()
        .annotate(active_here=Count("account__coaches", filter=Q(account__coaches__status=Coach.Status.ACTIVE)))
        .filter(active_here=1, account__opportunities__in=Opportunity.objects.open().gated())
        .first()
    )
    assert coach, "the demo has an account whose only coach has gated deals"
    gated = set(Opportunity.objects.open().gated().filter(account=coach.account_id).values_list("pk", flat=True))

    browser = smoke.Browser()
    browser.request("GET", "/login/")
    status, _, _ = browser.request("POST", "/login/", {"username": "admin", "password": "coachcrm-demo", "next": "/"})
    assert status == 302, f"login answered {status}"
    status, _, page = browser.request("GET", f"/coaches/{coach.pk}/")
    assert status == 200, f"the coach page answered {status}"

    smoke.redis_stop()
    print(f"smoke: Redis stopped; ending coach {coach.pk} over HTTP", flush=True)
    status, headers, _ = browser.request(
        "POST", f"/coaches/{coach.pk}/status/", {"status": "ended", "reason": "smoke outage"}
    )
    assert status == 302, f"ending the coach with Redis down answered {status}"
    status, _, page = browser.request("GET", headers["Location"])
    assert status == 200 and re.search(r"follow-up work is delayed", page), "the page does not say it is delayed"
    assert Coach.objects.get(pk=coach.pk).status == Coach.Status.ENDED
    assert Job.objects.filter(status=Job.Status.PENDING).exists(), "the send-back is not waiting in the outbox"
    time.sleep(3)
    smoke.redis_start()
    back = time.monotonic()
    print("smoke: Redis is back; waiting for the send-back", flush=True)

    while True:
        sent_back = set(
            StageChange.objects.filter(opportunity__in=gated, kind=StageChange.Kind.SENT_BACK).values_list(
                "opportunity", flat=True
            )
        )
        if sent_back == gated:
            break
        if time.monotonic() - back > 90:
            print(f"smoke: {len(sent_back)} of {len(gated)} deals sent back after 90s", file=sys.stderr)
            return 1
        time.sleep(1)
    assert StageChange.objects.filter(opportunity__in=gated, kind=StageChange.Kind.SENT_BACK).count() == len(gated)
    took = time.monotonic() - back
    print(f"smoke: {len(gated)} deal(s) sent back once, {took:.0f}s after Redis came back", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
