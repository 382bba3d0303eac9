"""The daily digest job: at DIGEST_HOUR in the organisation's time zone, once a day, from beat or run_scheduled."""

import datetime
import os
import zoneinfo

from django.conf import settings
from django.core.management import call_command

from agenda.models import DigestSent
from agenda.tasks import digests_send_task
from team.models import Notification
from tests import factories

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def test_digest_beat_entry_is_daily_at_the_digest_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["agenda-digests"]
    assert entry["task"] == digests_send_task.name
    assert entry["schedule"].hour == {settings.DIGEST_HOUR} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


def test_digest_job_waits_for_eight_in_the_organisations_time_zone_and_runs_once(rep, settings, time_machine):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.DIGEST_HOUR = 8
    factories.TaskFactory(owner=rep, due_on=datetime.date(2026, 3, 2))
    # 07:30 in Berlin (06:30 UTC): too early, nothing sent.
    time_machine.move_to(datetime.datetime(2026, 3, 2, 7, 30, tzinfo=BERLIN), tick=False)
    assert digests_send_task.apply().result == 0
    assert not Notification.objects.exists()
    # 08:00 in Berlin (07:00 UTC): sent, for Berlin's day; a second run (beat, cron) sends nothing.
    time_machine.move_to(datetime.datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN), tick=False)
    assert digests_send_task.apply().result == 1
    call_command("run_scheduled", "agenda-digests", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert Notification.objects.filter(user=rep).count() == 1
    assert DigestSent.objects.get().day == datetime.date(2026, 3, 2)
