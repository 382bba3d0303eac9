"""`any_of` and `ids_in` (coachcrm.lookups): the same rows as `__in`."""

import pytest
from django.db import connection
from django.db.models import Q

from pipeline.dashboard import _through, moves_scope
from pipeline.models import Opportunity, StageChange
from team.models import User
from tests import factories


@pytest.fixture
def deals(manager, rep, other_rep):
    return [factories.OpportunityFactory(owner=owner) for owner in (manager, rep, rep, other_rep)]


def test_any_of_selects_what_in_selects(manager, deals):
    team = User.objects.team_of(manager).order_by().values("pk")
    by_in = set(Opportunity.objects.filter(owner__in=team).values_list("pk", flat=True))
    assert set(Opportunity.objects.filter(owner__any_of=team).values_list("pk", flat=True)) == by_in
    assert len(by_in) == 3  # the manager's and his rep's, not the other team's
    # Negated too (an admin's filters could exclude a team).
    assert set(Opportunity.objects.exclude(owner__any_of=team).values_list("pk", flat=True)) == {deals[3].pk}


def test_any_of_is_one_array_on_postgresql(manager):
    sql = str(Opportunity.objects.filter(owner__any_of=User.objects.team_of(manager).values("pk")).query)
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT" in sql
    else:
        assert "IN (SELECT" in sql


def test_through_prefixes_every_lookup_and_keeps_negation_and_or(manager, rep, other_rep, deals, stages):
    for deal in deals:
        factories.StageChangeFactory(opportunity=deal)
    scope = (Q(owner=rep) | ~Q(owner__any_of=User.objects.team_of(manager).values("pk"))) & Q(amount__gte=0)
    expected = set(Opportunity.objects.filter(scope).values_list("pk", flat=True))
    moved = set(StageChange.objects.filter(_through("opportunity", scope)).values_list("opportunity", flat=True))
    assert moved == expected == {deals[1].pk, deals[2].pk, deals[3].pk}
    assert _through("opportunity", Q()) == Q()


def test_the_moves_scope_reads_the_owner_on_the_move_and_the_rest_on_its_deal(manager, rep, other_rep, deals, stages):
    for deal in deals:
        factories.StageChangeFactory(opportunity=deal)
    team = User.objects.team_of(manager).order_by().values("pk")
    scope = (Q(owner=rep) | ~Q(owner__any_of=team)) & Q(amount__gte=0)
    moves = StageChange.objects.filter(moves_scope(scope))
    assert set(moves.values_list("opportunity", flat=True)) == {deals[1].pk, deals[2].pk, deals[3].pk}
    sql = str(moves.query)
    # The owner is the move's own column (its (owner, at) index), the amount its deal's.
    assert '"pipeline_stagechange"."owner_id" =' in sql and '"pipeline_opportunity"."amount" >=' in sql
    assert '"pipeline_opportunity"."owner_id"' not in sql


def test_any_of_a_list_of_ids_selects_what_in_selects(deals):
    # The evaluated form (access.within, a manager's visible accounts): one array parameter on PostgreSQL.
    ids = [deals[0].account_id, deals[2].account_id, 10**9]
    by_in = set(Opportunity.objects.filter(account__in=ids).values_list("pk", flat=True))
    query = Opportunity.objects.filter(account__any_of=ids)
    assert set(query.values_list("pk", flat=True)) == by_in == {deals[0].pk, deals[2].pk}
    assert not Opportunity.objects.filter(account__any_of=[]).exists()
    assert {a.pk for a in type(deals[0].account).objects.filter(pk__any_of=ids)} == set(ids[:2])
    if connection.vendor == "postgresql":
        assert "= ANY(" in str(query.query)


def test_ids_in_sends_what_in_sends_and_selects_the_same_rows(deals):
    ids = [deals[2].account_id, deals[0].account_id, deals[2].account_id, None]
    by_in = Opportunity.objects.filter(account_id__in=ids)
    by_ids_in = Opportunity.objects.filter(account_id__ids_in=ids)
    # With psycopg2 (and SQLite's client-side quoting in str()) the text is what the server gets.
    assert str(by_ids_in.query) == str(by_in.query)
    assert set(by_ids_in) == set(by_in) == {deals[0], deals[2]}
    assert set(Opportunity.objects.exclude(account_id__ids_in=ids)) == {deals[1], deals[3]}


def test_ids_in_of_nothing_matches_nothing_and_takes_only_whole_numbers(deals):
    assert list(Opportunity.objects.filter(account_id__ids_in=[])) == []
    assert Opportunity.objects.exclude(account_id__ids_in=[]).count() == len(deals)
    with pytest.raises(ValueError):
        list(Opportunity.objects.filter(account_id__ids_in=["1) OR (1=1"]))
