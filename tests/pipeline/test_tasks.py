import datetime

from django.core.management import call_command
from django.utils import timezone

from coaches.models import Coach
from tests import factories


def test_run_scheduled_runs_every_beat_job_in_process(settings, stages, django_capture_on_commit_callbacks):
    settings.COACH_LAPSE_DAYS = 120
    coach = factories.CoachFactory(established_on=timezone.localdate() - datetime.timedelta(days=200))
    deal = factories.OpportunityFactory(account=coach.account, stage=stages["Proposal"])
    assert "coaches-lapse-untouched" in settings.CELERY_BEAT_SCHEDULE
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_scheduled")
    coach.refresh_from_db()
    deal.refresh_from_db()
    assert coach.status == Coach.Status.LAPSED
    assert deal.stage == stages["Qualified"]  # the send-back followed the lapse


def test_run_scheduled_refuses_an_unknown_job(db):
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Not in CELERY_BEAT_SCHEDULE"):
        call_command("run_scheduled", "nope")
