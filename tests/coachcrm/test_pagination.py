"""Bounded counts: a list counts its rows up to COUNT_LIMIT, says "more than" past it, exact on demand."""

import pytest
from django.urls import reverse

from coachcrm import pagination
from tests import factories


@pytest.fixture
def deals(rep):
    account = factories.AccountFactory(owner=rep)
    return factories.OpportunityFactory.create_batch(8, account=account)


def test_list_under_the_limit_counts_exactly(rep_client, deals):
    response = rep_client.get(reverse("pipeline:opportunity-list"))
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.bounded) == (8, False)
    assert "8 records" in response.content.decode()


def test_list_past_the_limit_says_more_than_and_shows_a_full_page(rep_client, deals, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    response = rep_client.get(reverse("pipeline:opportunity-list"))
    page = response.context["page"]
    assert (page.paginator.count, page.paginator.bounded) == (6, True)
    # The count is a lower bound: the page still shows every row it has room for.
    assert len(page.object_list) == 8
    body = response.content.decode()
    assert "More than 5 records" in body and "count=exact" in body


def test_list_past_the_limit_counts_exactly_on_demand(rep_client, deals, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    response = rep_client.get(reverse("pipeline:opportunity-list"), {"count": "exact"})
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.bounded) == (8, False)
    assert "8 records" in response.content.decode()


def test_bounded_pages_follow_on_past_the_counted_rows(rep, deals, monkeypatch, rf):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    rows = factories.OpportunityFactory._meta.model.objects.order_by("pk")
    page = pagination.paginate(rf.get("/", {"page": "2"}), rows, per_page=3)
    # Counted 4 (a lower bound): page 2 is a full page of 3, not the single row the count implies.
    assert page.paginator.bounded and [deal.pk for deal in page] == [deal.pk for deal in deals[3:6]]


def test_grouped_rows_and_lists_are_counted_as_they_are(rep, deals, monkeypatch, rf):
    from django.db.models import Count

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    grouped = (
        factories.OpportunityFactory._meta.model.objects.values("account").annotate(n=Count("pk")).order_by("account")
    )
    assert pagination.paginate(rf.get("/"), grouped).paginator.count == 1
    assert pagination.paginate(rf.get("/"), list(range(8))).paginator.count == 6
