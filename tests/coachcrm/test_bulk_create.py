"""coachcrm.bulk.create_with_history writes what simple_history's bulk_create_with_history writes."""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from simple_history.utils import bulk_create_with_history

from accounts.models import Account, Contact, Employment
from coachcrm.bulk import create_with_history
from tests import factories

# The UNNEST path is PostgreSQL's; elsewhere create_with_history is the library itself.
postgresql_only = pytest.mark.postgres


def _people(n):
    return [
        Contact(first_name=f"Ann{i}", last_name="Lee", email=f"ann{i}@example.com" if i % 2 else "", phone="")
        for i in range(n)
    ]


def _rows(model, pks):
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "created_at", "contact_id")]
    return sorted(model.objects.filter(pk__in=pks).values_list(*fields))


def _history(model, pks):
    history = model.history.model
    skip = ("id", "history_id", "history_date", "created_at", "contact_id")
    fields = [f.attname for f in history._meta.concrete_fields if f.attname not in skip]
    return sorted(history.objects.filter(id__in=pks).values_list(*fields))


def _written(create, user, account):
    with transaction.atomic():
        people = create(_people(6), Contact, default_user=user)
        positions = [
            Employment(contact=p, account=account, title="Buyer", start_date=datetime.date(2024, 1, i + 1))
            for i, p in enumerate(people)
        ]
        positions[0].end_date = datetime.date(2024, 6, 1)
        create(positions, Employment, default_user=user)
        person_pks, position_pks = [p.pk for p in people], [p.pk for p in positions]
        assert all(person_pks) and all(position_pks)
        assert all(p.created_at is not None and not p._state.adding for p in people)
        assert [p.contact_id for p in positions] == person_pks
        result = (
            _rows(Contact, person_pks),
            _history(Contact, person_pks),
            _rows(Employment, position_pks),
            _history(Employment, position_pks),
            sorted(Contact.history.filter(id__in=person_pks).values_list("history_user", "history_change_reason")),
            Contact.history.filter(id__in=person_pks).count(),
        )
        transaction.set_rollback(True)
    return result


@postgresql_only
def test_the_unnest_path_writes_the_librarys_rows_and_history(rep):
    account = factories.AccountFactory(owner=rep)
    assert _written(create_with_history, rep, account) == _written(bulk_create_with_history, rep, account)


@postgresql_only
def test_one_statement_per_table_whatever_the_rows(rep):
    for n in (1, 50):
        with CaptureQueriesContext(connection) as captured:
            create_with_history(_people(n), Contact, default_user=rep)
        assert len(captured.captured_queries) == 2  # the rows, their history


def test_accounts_keep_their_fields_and_history(rep):
    region, industry = factories.RegionFactory(), factories.IndustryFactory()
    accounts = create_with_history(
        [Account(name="Acme", normalized_name="acme", region=region, industry=industry, owner=rep)],
        Account,
        default_user=rep,
    )
    account = Account.objects.get(pk=accounts[0].pk)
    assert (account.name, account.owner, account.region, account.created_at is not None) == ("Acme", rep, region, True)
    assert list(account.history.values_list("history_type", "history_user", "name")) == [("+", rep.pk, "Acme")]
