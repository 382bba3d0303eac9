"""Data versions (coachcrm.versions): every committed write bumps its tables once, and a cached
report is recomputed after one and only then.

These tests commit for real (`transaction=True`): a test's usual transaction never commits, so
its writes would bump nothing.
"""

import pytest
from django.db import connection, transaction

from accounts.models import Account
from coachcrm import versions
from coachcrm.models import TableVersion
from tests import factories

ACCOUNTS = Account._meta.db_table

pytestmark = pytest.mark.django_db(transaction=True)


def version(table: str = ACCOUNTS) -> int:
    return versions.versions([table])[0]


def test_a_committed_write_bumps_its_table_once_per_transaction(rep):
    before = version()
    with transaction.atomic():
        account = factories.AccountFactory(owner=rep)
        account.name = "Renamed"
        account.save()
        Account.objects.filter(pk=account.pk).update(notes="a queryset update")
    assert version() == before + 1


def copy_of(account: Account) -> Account:
    return Account(name="Bulk", owner=account.owner, region=account.region, industry=account.industry)


@pytest.mark.parametrize(
    "write",
    [
        lambda account: Account.objects.filter(pk=account.pk).update(notes="x"),
        lambda account: Account.objects.bulk_create([copy_of(account)]),
        lambda account: account.delete(),
        lambda account: connection.cursor().execute(
            f'UPDATE "{ACCOUNTS}" SET notes = %s WHERE id = %s',  # noqa: S608 - the model's own table
            ["raw", account.pk],
        ),
    ],
    ids=["update", "bulk_create", "delete", "raw SQL"],
)
def test_every_kind_of_write_bumps(rep, write):
    account = factories.AccountFactory(owner=rep)
    before = version()
    write(account)
    assert version() == before + 1


def test_reads_and_other_tables_leave_a_version_alone(rep):
    factories.AccountFactory(owner=rep)
    before = version()
    list(Account.objects.all())
    factories.ContactFactory()
    assert version() == before
    # A table no cached report reads is not watched at all (the session's save on each request).
    assert version("accounts_contact") == 0 and version("django_session") == 0


def test_a_rolled_back_write_bumps_nothing(rep):
    before = version()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.AccountFactory(owner=rep)
        raise RuntimeError
    assert version() == before
    assert not TableVersion.objects.filter(table=ACCOUNTS, version__gt=before).exists()


def test_a_first_write_creates_the_tables_row(rep):
    TableVersion.objects.filter(table=ACCOUNTS).delete()
    assert version() == 0
    factories.AccountFactory(owner=rep)
    assert version() == 1


@pytest.fixture
def cache_on(settings):
    settings.REPORT_CACHE_SECONDS = 60


def test_cached_computes_once_until_a_table_it_reads_is_written(cache_on, rep):
    calls = []

    def compute():
        calls.append(1)
        return {"n": Account.objects.count()}

    def report(**params):
        return versions.cached("test", tables=[ACCOUNTS], params={"user": rep, **params}, compute=compute)

    assert report() == {"n": 0} and report() == {"n": 0} and len(calls) == 1
    # Other parameters are another report.
    assert report(start="2026-01-01") == {"n": 0} and len(calls) == 2
    factories.AccountFactory(owner=rep)
    assert report() == {"n": 1} and len(calls) == 3
    # A write elsewhere changes nothing.
    factories.ContactFactory()
    assert report() == {"n": 1} and len(calls) == 3


def test_cached_computes_every_time_without_a_cache(settings, rep):
    settings.REPORT_CACHE_SECONDS = 0
    calls = []
    for _ in range(2):
        versions.cached("test", tables=[ACCOUNTS], params={}, compute=lambda: calls.append(1))
    assert len(calls) == 2


class DownCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("the cache is away")

    set = get


def test_cached_computes_while_the_cache_is_away(cache_on, monkeypatch, rep):
    monkeypatch.setattr(versions, "cache", DownCache())
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert versions.cached("test", tables=[ACCOUNTS], params={}, compute=compute) == 1
    assert versions.cached("test", tables=[ACCOUNTS], params={}, compute=compute) == 2


def test_versions_bump_makes_every_report_compute_anew(cache_on, rep):
    from django.core.management import call_command

    calls = []
    report = lambda: versions.cached("test", tables=[ACCOUNTS], params={}, compute=lambda: calls.append(1) or 1)  # noqa: E731
    report()
    report()
    # A write the watch cannot see (another program's), then the command.
    call_command("versions_bump", stdout=open("/dev/null", "w"))  # noqa: SIM115
    report()
    assert len(calls) == 2
