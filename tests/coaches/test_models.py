import datetime
import importlib

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

import access
from coaches import playbook
from coaches.models import Coach, PlaybookCard
from tests import factories


def _days(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def test_health_querysets_and_row_properties_agree(db, settings):
    settings.COACH_STALE_DAYS, settings.COACH_UNVERIFIED_DAYS = 60, 90
    fresh = factories.CoachFactory(established_on=_days(10))
    factories.HolderFactory(coach=fresh)
    stale = factories.CoachFactory(established_on=_days(100), last_interaction_on=_days(61), last_verified_on=_days(5))
    unverified = factories.CoachFactory(established_on=_days(200), last_interaction_on=_days(1))
    at_risk = factories.CoachFactory(at_risk=True)
    factories.CoachFactory(status=Coach.Status.LAPSED, established_on=_days(300))

    assert set(Coach.objects.stale()) == {stale}
    assert set(Coach.objects.unverified()) == {unverified}
    assert set(Coach.objects.single_threaded()) == {stale, unverified, at_risk}
    assert set(Coach.objects.at_risk()) == {at_risk}
    assert fresh.health_issues() == []
    assert stale.is_stale and not stale.is_unverified and stale.is_single_threaded
    assert unverified.health_issues() == ["single-threaded", "unverified"]
    assert at_risk.health_issues()[0] == "at risk"
    # The dashboard's counts in one pass are the sizes of those sets, for all and for a part.
    for coaches in (Coach.objects.all(), Coach.objects.exclude(pk=stale.pk)):
        assert coaches.health_counts() == {
            "active": coaches.active().count(),
            "single_threaded": coaches.single_threaded().count(),
            "stale": coaches.stale().count(),
            "at_risk": coaches.at_risk().count(),
        }
    assert Coach.objects.health_counts() == {"active": 4, "single_threaded": 3, "stale": 1, "at_risk": 1}


def test_visible_to_scopes_coaches_to_holders_their_managers_and_admins(rep, manager, other_rep, admin_user):
    mine = factories.CoachFactory(holder=rep)
    theirs = factories.CoachFactory(holder=other_rep)
    factories.HolderFactory(coach=mine, user=factories.RepFactory(manager=manager))
    assert list(access.coaches(rep)) == [mine]
    assert list(access.coaches(manager)) == [mine]
    assert set(access.coaches(admin_user)) == {mine, theirs}


def test_account_visible_to_admits_coach_accounts_once_without_duplicates(rep, manager, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    factories.CoachFactory(account=account, holder=rep)
    factories.CoachFactory(account=account, holder=rep)
    assert list(access.accounts(rep)) == [account]
    assert list(access.accounts(manager)) == [account]
    assert not access.accounts(factories.RepFactory()).exists()


@pytest.mark.django_db
def test_one_active_coach_role_per_contact_is_a_database_rule():
    from django.db import IntegrityError, transaction

    coach = factories.CoachFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Coach.objects.create(account=coach.account, contact=coach.contact)


@pytest.mark.django_db
def test_playbook_defaults_match_the_migration_and_show_translated():
    # coaches/playbook.py marks for translation the texts migration 0003 stores: they must not drift.
    migration = importlib.import_module("coaches.migrations.0003_default_playbook")
    assert playbook.DEFAULT_CARDS == migration.DEFAULT_CARDS
    card = PlaybookCard.objects.get(style="driver")
    with translation.override("zh-hans"):
        shown = Template("{% load i18n %}{% translate card.pace %}").render(Context({"card": card}))
    assert shown == "快。准时开始、提前结束；一次会面，一个决定。"  # noqa: RUF001
