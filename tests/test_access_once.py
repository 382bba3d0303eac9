"""`once`: the visible accounts evaluated up front scope exactly as the subquery (a list, or one array)."""

import pytest
from django.db import connection

import access
from tests import factories


@pytest.mark.parametrize("list_max", [0, 1000])
@pytest.mark.parametrize("who", ["rep", "manager"])
def test_once_scopes_exactly_as_the_subquery(who, list_max, rep, other_rep, stages, monkeypatch):
    monkeypatch.setattr(access, "ID_LIST_MAX", list_max)  # 0: every id set as the array
    mine, theirs = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=other_rep)
    held = factories.AccountFactory(owner=other_rep)
    factories.CoachFactory(account=held, holder=rep)
    for account in (mine, theirs, held):
        factories.OpportunityFactory(account=account)
        factories.GrantFactory(account=account, rep=account.owner)
        factories.person_at(account)
    # A deal of his on an account he does not see: visible through its owner.
    factories.OpportunityFactory(account=theirs, owner=rep)
    user = rep if who == "rep" else rep.manager
    for scope in (access.accounts, access.contacts, access.opportunities, access.grants):
        once = set(scope(user, once=True).values_list("pk", flat=True))
        assert once == set(scope(user).values_list("pk", flat=True)), scope.__name__
        assert once, scope.__name__


@pytest.mark.parametrize("list_max", [0, 1000])
def test_a_long_id_set_goes_as_one_array_on_postgresql(list_max, rep, monkeypatch):
    """Evaluated ids past ID_LIST_MAX: `= ANY(array)` (estimated from its length), never `IN (SELECT unnest(...))`."""
    monkeypatch.setattr(access, "ID_LIST_MAX", list_max)
    factories.AccountFactory(owner=rep)
    evaluated = access.account_ids(rep, once=True)
    assert isinstance(evaluated, list)  # a rep's short set, evaluated
    sql = str(access.accounts(rep, once=evaluated).query)
    array = connection.vendor == "postgresql" and list_max == 0
    assert ("= ANY(" in sql) is array
    assert "unnest" not in sql


def test_a_managers_once_stays_the_kept_rows_subquery(manager, rep):
    """A manager's ~5,000 visible accounts are not fetched: his scope is the kept rows' index range."""
    factories.AccountFactory(owner=rep)
    scope = access.account_ids(manager, once=True)
    assert not isinstance(scope, list)
    assert list(scope.values_list("account_id", flat=True)) == list(
        access.account_ids_live(manager).values_list("pk", flat=True)
    )
