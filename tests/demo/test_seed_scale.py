"""seed_scale: the benchmark's organisation, at a tiny fraction (the timing is `make bench`'s job)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Max

from coaches.models import Coach, Holder
from demo.management.commands.seed_scale import LEAVER
from pipeline.models import Opportunity, StageChange
from service_catalog.models import Grant
from team.models import User


@pytest.mark.postgres
@pytest.mark.django_db
def test_seed_scale_builds_a_consistent_organisation():
    call_command("seed_scale", fraction=0.002, stdout=io.StringIO())

    assert Coach.objects.count() == 30
    assert Holder.objects.filter(user__username=LEAVER).count() == 30
    assert Grant.objects.approved().filter(authorised_by__isnull=True).count() == 0
    # last_interaction_on is the newest interaction, as interaction_log keeps it.
    mismatched = Coach.objects.annotate(newest=Max("interactions__occurred_on")).exclude(
        last_interaction_on=F("newest")
    )
    assert not mismatched.exists()
    # A deal's stage is the target of its last stage change; closed deals have closed_at.
    for opportunity in Opportunity.objects.all()[:50]:
        last = StageChange.objects.filter(opportunity=opportunity).order_by("-at", "-pk").first()
        assert last.to_stage_id == opportunity.stage_id
        assert (opportunity.closed_at is not None) == (opportunity.status != Opportunity.Status.OPEN)
    # Every move carries its deal's owner (StageChange.owner, the dashboard's team scope).
    assert not StageChange.objects.exclude(owner=F("opportunity__owner")).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_seed_scale_refuses_to_run_twice():
    User.objects.create(username="benchadmin")

    with pytest.raises(CommandError, match="already there"):
        call_command("seed_scale", fraction=0.002)


@pytest.mark.sqlite
@pytest.mark.django_db
def test_seed_scale_refuses_sqlite_unless_asked():
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("seed_scale", fraction=0.002)
