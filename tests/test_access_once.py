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
    """Past ID_LIST_MAX: `= ANY(array)` (estimated from its length), never `IN (SELECT unnest(...))`."""
    monkeypatch.setattr(access, "ID_LIST_MAX", list_max)
    factories.AccountFactory(owner=rep)
    sql = str(access.accounts(rep.manager, once=True).query)
    array = connection.vendor == "postgresql" and list_max == 0
    assert ("= ANY(" in sql) is array
    assert "unnest" not in sql
