"""The job-change feed under concurrency: parallel duplicates, and two people moving to one new company.

On PostgreSQL the first writer is held open until the second waits for its lock, so the race
happens every run (the person's row lock, and the unique name index with the savepoint in
account_create). On SQLite the IMMEDIATE transactions queue whole writers, so the same posts in
parallel give the same answers.
"""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts import services
from accounts.models import Account, Employment
from tests import factories
from tests.locks import wait_until_someone_waits_for_a_lock


def _change(person, company="Globex Inc.", days_ago=5):
    return {
        "contact": person.pk,
        "company": company,
        "title": "VP",
        "start_date": timezone.localdate() - datetime.timedelta(days=days_ago),
    }


def _people(n):
    owner = factories.RepFactory()
    old = factories.AccountFactory(owner=owner, name="Old Works")
    start = timezone.localdate() - datetime.timedelta(days=400)
    return owner, [factories.EmploymentFactory(account=old, start_date=start).contact for _ in range(n)]


def _first_holds_until_second_waits(first, second):
    """Run `first` in a transaction kept open until `second` (another connection) waits for a lock."""
    answers, errors, started = {}, [], threading.Event()

    def hold():
        try:
            with transaction.atomic():
                answers["first"] = first()
                started.set()
                with connection.cursor() as cursor:
                    if not wait_until_someone_waits_for_a_lock(cursor):
                        errors.append("the second writer never waited for the first one's lock")
        except Exception as error:
            errors.append(error)
            started.set()
        finally:
            connection.close()

    def run_second():
        try:
            answers["second"] = second()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(10)
    other = threading.Thread(target=run_second)
    other.start()
    holder.join()
    other.join()
    assert errors == []
    return answers["first"], answers["second"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_job_change_posted_twice_at_once_is_applied_once_then_already_applied():
    owner, (person,) = _people(1)
    change = _change(person)
    first, second = _first_holds_until_second_waits(
        lambda: services.job_changes_apply(by=owner, changes=[change]),
        lambda: services.job_changes_apply(by=owner, changes=[{**change, "company": "globex"}]),
    )
    assert first[0]["result"] == "applied"
    assert second == [
        {"index": 0, "result": "already_applied", "contact": person.pk, "employment": first[0]["employment"]}
    ]
    assert person.employments.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_moving_to_one_new_company_at_once_land_on_one_account():
    owner, (ann, bob) = _people(2)
    first, second = _first_holds_until_second_waits(
        lambda: services.job_changes_apply(by=owner, changes=[_change(ann, "Blue Harbour")]),
        lambda: services.job_changes_apply(by=owner, changes=[_change(bob, "Blue Harbour Ltd.")]),
    )
    assert [first[0]["result"], second[0]["result"]] == ["applied", "applied"]
    account = Account.objects.get(normalized_name="blue harbour")
    assert set(Employment.objects.current().filter(account=account).values_list("contact", flat=True)) == {
        ann.pk,
        bob.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_job_change_feed_posted_in_parallel_applies_each_move_once_on_one_account():
    """Eight posts at once, each the same batch: every move applied once, one new account, no refusal."""
    owner, people = _people(4)
    batch = [_change(person, company="Initech") for person in people]
    barrier, results, errors = threading.Barrier(8), [], []

    def post():
        try:
            barrier.wait()
            results.append(services.job_changes_apply(by=owner, changes=batch))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for index in range(len(people)):
        answers = sorted(result[index]["result"] for result in results)
        assert answers == ["already_applied"] * 7 + ["applied"]
    assert Account.objects.filter(normalized_name="initech").count() == 1
    assert Employment.objects.current().filter(account__normalized_name="initech").count() == 4
