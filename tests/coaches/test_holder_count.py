"""The kept holder count (`Coach.holder_count`) equals the holders counted afresh, after every kind of write."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts import services as account_services
from coaches import services
from coaches.models import Coach, Holder, holders_counted
from csvio import services as csvio_services
from departures import services as departure_services
from team.models import User
from tests import factories
from tests.locks import wait_until_someone_waits_for_a_lock


def assert_counts_kept():
    """The oracle: every coach's kept count against a count of its holder rows."""
    wrong = Coach.objects.annotate(live=holders_counted()).exclude(holder_count=F("live"))
    assert list(wrong.values_list("pk", "holder_count", "live")) == []


def test_holder_count_follows_a_mixed_history_of_writes(rep, other_rep, manager):
    account = factories.AccountFactory(owner=rep)
    third = factories.RepFactory(manager=manager)

    # Recorded through the service: its recorder holds it.
    coach = services.coach_record(by=rep, account=account, contact=factories.person_at(account))
    assert coach.holder_count == 1
    assert_counts_kept()

    # Added, and the instance in hand says so too.
    services.holder_add(coach=coach, user=other_rep, by=rep)
    services.holder_add(coach=coach, user=third, by=rep, is_primary=True)
    assert coach.holder_count == 3 and not coach.is_single_threaded
    assert_counts_kept()

    # Removed (the primary, so a successor is named): the count goes down.
    holder = Holder.objects.select_related("coach", "user").get(coach=coach, user=third)
    services.holder_remove(holder=holder, by=rep)
    assert holder.coach.holder_count == 2
    assert_counts_kept()

    # The test factories keep it as the services do.
    factory_coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)
    factories.HolderFactory(coach=factory_coach, user=other_rep)
    assert factory_coach.holder_count == 2
    assert_counts_kept()

    # A departure: the leaving rep's rows move to a successor (same count) or, where a co-holder
    # keeps the coach, are removed (one fewer).
    leaver = factories.RepFactory(manager=manager)
    alone = factories.CoachFactory(account=factories.AccountFactory(owner=leaver), holder=leaver)
    shared = factories.CoachFactory(account=factories.AccountFactory(owner=leaver), holder=leaver)
    factories.HolderFactory(coach=shared, user=other_rep)
    factories.InteractionFactory(coach=shared, user=other_rep)
    today = timezone.localdate()
    User.objects.filter(pk=leaver.pk).update(status=User.Status.LEAVING, departure_date=today)
    departure_services.user_depart(user_id=leaver.pk, today=today)
    assert Coach.objects.get(pk=alone.pk).holder_count == 1
    assert Coach.objects.get(pk=shared.pk).holder_count == 1
    assert_counts_kept()


def test_holder_count_follows_a_contact_merge(rep, other_rep, manager, stages):
    account = factories.AccountFactory(owner=rep)
    survivor, loser = factories.person_at(account), factories.person_at(account)
    ours = factories.CoachFactory(account=account, contact=survivor, holder=rep)
    theirs = factories.CoachFactory(account=account, contact=loser, holder=rep)
    factories.HolderFactory(coach=theirs, user=other_rep)

    # The rep holding both keeps one holding; the other's moves over; the ended record has none.
    account_services.contact_merge(contact=loser, into=survivor, by=manager)

    assert Coach.objects.get(pk=ours.pk).holder_count == 2
    assert Coach.objects.get(pk=theirs.pk).holder_count == 0
    assert_counts_kept()


def test_holder_count_follows_an_import(rep, other_rep):
    account = factories.AccountFactory(owner=rep, name="Acme Ltd")
    factories.person_at(account, contact__email="ann@acme.example")
    text = (
        "contact_email,account,strength,credible,trusts_us,wants_us_to_win,has_power,established_on,holders\n"
        f"ann@acme.example,Acme Ltd,champion,yes,yes,yes,no,2024-03-01,{other_rep.username};{rep.username}\n"
    )
    batch = csvio_services.import_batch_create(by=rep, kind="coaches", filename="c.csv", data=text.encode())
    csvio_services.import_batch_confirm(batch=batch, by=rep)

    assert Coach.objects.get(contact__email="ann@acme.example").holder_count == 2
    assert_counts_kept()


def test_holder_count_kept_by_the_demo_data(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert Coach.objects.filter(holder_count=2).exists() and Coach.objects.filter(holder_count=1).exists()
    assert_counts_kept()


@pytest.mark.postgres
def test_holder_count_kept_by_seed_scale(db):
    call_command("seed_scale", fraction=0.002, stdout=io.StringIO())
    assert Coach.objects.filter(holder_count=2).exists()
    assert_counts_kept()


def test_single_threaded_and_health_read_the_kept_count(rep, other_rep):
    single = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)
    double = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)
    factories.HolderFactory(coach=double, user=other_rep)
    assert set(Coach.objects.single_threaded()) == {single}
    scores = dict(Coach.objects.with_health().values_list("pk", "health_score"))
    assert scores[single.pk] - scores[double.pk] == 2
    # A count written around the services shows: the pages read the column, not the rows.
    Coach.objects.filter(pk=double.pk).update(holder_count=1)
    assert set(Coach.objects.single_threaded()) == {single, double}


def test_holder_counts_refresh_command_repairs_counts_written_around_the_services(rep, other_rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)
    fine = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)
    Holder.objects.create(coach=coach, user=other_rep)  # a script, behind the services' back
    out = io.StringIO()
    call_command("holder_counts_refresh", stdout=out)
    assert "1 coaches corrected" in out.getvalue()
    assert Coach.objects.get(pk=coach.pk).holder_count == 2 and Coach.objects.get(pk=fine.pk).holder_count == 1
    assert_counts_kept()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_holders_added_at_once_are_both_counted():
    """A holder added while another transaction adds one to the same coach: the count sees both."""
    rep, first, second = factories.RepFactory(), factories.RepFactory(), factories.RepFactory()
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)
    added, errors = threading.Event(), []

    def add_and_commit_once_the_other_waits():
        try:
            with transaction.atomic():
                services.holder_add(coach=Coach.objects.get(pk=coach.pk), user=first, by=rep)
                added.set()
                with connection.cursor() as cursor:
                    if not wait_until_someone_waits_for_a_lock(cursor):
                        errors.append("the second holder_add never waited for the coach's lock")
        except Exception as error:
            errors.append(error)
            added.set()
        finally:
            connection.close()

    thread = threading.Thread(target=add_and_commit_once_the_other_waits)
    thread.start()
    assert added.wait(10)
    services.holder_add(coach=Coach.objects.get(pk=coach.pk), user=second, by=rep)
    thread.join(10)
    assert errors == []
    assert Coach.objects.get(pk=coach.pk).holder_count == 3
    assert_counts_kept()
