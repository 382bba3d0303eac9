"""The kept visible accounts (coaches.VisibleAccount) equal the visibility rule after a mixed history.

An oracle test, as for territory coverage: accounts, holders, territories and teams written in
every way the CRM allows (services, the test factories as the Django admin and the demo save,
a CSV import, an account merge, a coach merge of two people, a departure's bulk moves, a
territory's change of rule, members and activity, a rep moved to another team, a promotion),
then for every user the rows must be `access.account_ids_live`, the rule computed.
"""

import datetime
import io

from django.core.management import call_command
from django.utils import timezone

import access
from accounts import services as account_services
from accounts import territories as territory_services
from accounts.models import Account
from coaches import services as coach_services
from coaches.models import Coach, Holder, VisibleAccount
from coaches.tasks import visible_repair_task
from coaches.visibility import visible_refresh
from csvio.services import import_batch_confirm, import_batch_create
from departures import services as departure_services
from team import services as team_services
from team.models import User
from tests import factories

TODAY = timezone.localdate()


def kept(user) -> set[int]:
    return set(VisibleAccount.objects.filter(user=user).values_list("account_id", flat=True))


def assert_kept_is_the_rule():
    for user in User.objects.exclude(role=User.Role.ADMIN):
        assert kept(user) == set(access.account_ids_live(user).values_list("pk", flat=True)), user
    # An admin sees everything through no rows at all.
    assert not VisibleAccount.objects.filter(user__role=User.Role.ADMIN).exists()


def test_the_kept_rows_equal_the_rule_after_a_mixed_history(admin_user, manager, rep, other_rep):
    other_manager = factories.ManagerFactory()
    far_rep = factories.RepFactory(manager=other_manager)
    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    retail = factories.IndustryFactory(name="Retail")
    # Services: accounts created and reassigned, coaches recorded, holders added and removed.
    mine = account_services.account_create(by=rep, name="Acme", region=north, industry=retail)
    theirs = account_services.account_create(by=admin_user, owner=far_rep, name="Globex", region=east, industry=retail)
    coach = factories.CoachFactory(account=theirs, holder=far_rep)
    coach_services.holder_add(coach=coach, user=rep, by=admin_user)  # rep (and his manager) see Globex
    account_services.account_reassign(account=mine, owner=other_rep, by=admin_user, reason="Territory change")
    removable = coach_services.holder_add(
        coach=factories.CoachFactory(account=factories.AccountFactory(owner=far_rep), holder=far_rep),
        user=other_rep,
        by=admin_user,
    )
    coach_services.holder_remove(holder=removable, by=admin_user)
    assert_kept_is_the_rule()
    # Territories: created, its rule and members changed, deactivated; an account's region changed.
    territory = territory_services.territory_create(by=admin_user, name="North", region=north, members=[rep])
    account_services.account_update(account=theirs, by=admin_user, region=north)
    territory_services.territory_update(territory=territory, by=admin_user, members=[rep, far_rep])
    second = territory_services.territory_create(by=admin_user, name="East", region=east, members=[other_rep])
    territory_services.territory_deactivate(territory=second, by=admin_user)
    assert_kept_is_the_rule()
    # A CSV import of accounts (bulk: no model signal), routed by the territory.
    data = b"name,region,industry\nInitech,North,Retail\nHooli,East,Retail\n"
    import_batch_confirm(batch=import_batch_create(by=rep, kind="accounts", filename="a.csv", data=data), by=rep)
    assert_kept_is_the_rule()
    # Teams: a rep moved to another manager, a rep promoted, a manager demoted.
    team_services.user_update(user=other_rep, by=admin_user, manager=other_manager)
    assert_kept_is_the_rule()
    team_services.user_update(user=far_rep, by=admin_user, role=User.Role.MANAGER, manager=None)
    assert_kept_is_the_rule()
    # Merges: two accounts (their coaches and holders go to the survivor), two people with a coach each.
    duplicate = factories.AccountFactory(owner=far_rep, name="Globex Europe")
    factories.CoachFactory(account=duplicate, holder=other_rep)
    account_services.account_merge(account=duplicate, into=theirs, by=admin_user)
    assert_kept_is_the_rule()
    person = factories.ContactFactory()
    twin = factories.ContactFactory(email="")
    at = factories.AccountFactory(owner=rep)
    for who, holder in ((person, rep), (twin, far_rep)):
        factories.EmploymentFactory(contact=who, account=at)
        factories.CoachFactory(account=at, contact=who, holder=holder)
    account_services.contact_merge(contact=twin, into=person, by=admin_user)
    assert_kept_is_the_rule()
    # A departure: his accounts and his coaches' holdings move in bulk to successors.
    leaver = factories.RepFactory(manager=manager)
    for _ in range(3):
        factories.CoachFactory(account=factories.AccountFactory(owner=leaver), holder=leaver)
    leaver.status, leaver.departure_date = User.Status.LEAVING, TODAY
    leaver.save()
    departure_services.user_depart(user_id=leaver.pk, today=TODAY + datetime.timedelta(days=1))
    assert not Account.objects.filter(owner=leaver).exists() and not Holder.objects.filter(user=leaver).exists()
    assert_kept_is_the_rule()
    # Deletes: a coach (and with it its holders), an account.
    Coach.objects.filter(pk=coach.pk).delete()
    factories.AccountFactory(owner=rep).delete()
    assert_kept_is_the_rule()
    assert VisibleAccount.objects.exists()  # the scenario does make someone see something


def test_a_rebuild_restores_rows_written_around_the_services(manager, rep):
    account = factories.AccountFactory(owner=rep)
    Account.objects.filter(pk=account.pk).update(owner=factories.RepFactory())  # around the signals
    VisibleAccount.objects.create(user=manager, account=factories.AccountFactory(owner=factories.RepFactory()))
    call_command("visible_refresh", stdout=io.StringIO())
    assert_kept_is_the_rule()


def test_the_nightly_repair_mends_only_what_drifted_and_then_writes_nothing(manager, rep):
    colleague = factories.RepFactory(manager=manager)
    mine, theirs = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=colleague)
    untouched = VisibleAccount.objects.get(user=colleague, account=theirs).pk
    Account.objects.filter(pk=mine.pk).update(owner=colleague)  # around the signals: rep still sees it
    VisibleAccount.objects.filter(user=manager, account=theirs).delete()  # and the manager lost one

    assert visible_repair_task.delay().get() == {"added": 2, "removed": 1}

    assert_kept_is_the_rule()
    assert kept(rep) == set() and kept(colleague) == {mine.pk, theirs.pk}
    assert VisibleAccount.objects.get(user=colleague, account=theirs).pk == untouched  # rows that held stay
    assert visible_repair_task.delay().get() == {"added": 0, "removed": 0}


def test_a_refresh_of_some_accounts_or_users_rewrites_only_theirs(manager, rep):
    colleague = factories.RepFactory(manager=manager)
    mine, theirs = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=colleague)
    VisibleAccount.objects.all().delete()
    visible_refresh(accounts=[mine.pk])
    assert kept(rep) == {mine.pk} and kept(colleague) == set() and kept(manager) == {mine.pk}
    visible_refresh(users=[colleague.pk])
    assert kept(colleague) == {theirs.pk} and kept(manager) == {mine.pk}
    visible_refresh(users=[manager.pk])
    assert kept(manager) == {mine.pk, theirs.pk}
    assert_kept_is_the_rule()


def test_a_login_refreshes_nothing(rep, django_assert_num_queries):
    rep.last_login = timezone.now()
    with django_assert_num_queries(1):
        rep.save(update_fields=["last_login"])
