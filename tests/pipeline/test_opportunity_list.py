"""The opportunity list's page, read ids first, against the same page of the list as one query."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

import access
from pipeline import selectors
from pipeline.models import Opportunity
from tests import factories


@pytest.fixture
def deals(rep, other_rep, manager, stages):
    """60 deals: the rep's, a colleague's at the rep's accounts, another team's; coached or not; equal dates."""
    colleague = factories.RepFactory(manager=manager)
    coached = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    accounts = [coached, factories.AccountFactory(owner=rep), factories.AccountFactory(owner=other_rep)]
    stamp = timezone.now()
    for index in range(60):
        account = accounts[index % 3]
        factories.OpportunityFactory(
            account=account,
            owner=colleague if index % 5 == 0 else account.owner,
            stage=list(stages.values())[index % len(stages)],
            # Pairs of deals created at the same moment: the id breaks the tie.
            created_at=stamp - datetime.timedelta(hours=index // 2),
        )


def _row(deal: Opportunity) -> tuple:
    return (deal.pk, deal.has_coach, deal.account.name, deal.owner.username, deal.stage.name)


@pytest.mark.parametrize("who", ["rep", "manager", "admin_user", "other_rep"])
@pytest.mark.parametrize("query", [{}, {"page": "2"}, {"page": "3"}, {"stage": "Lead"}, {"q": "a"}])
def test_opportunity_list_page_is_the_lists_own_page(who, query, deals, request, client_for, stages):
    user = request.getfixturevalue(who)
    if "stage" in query:
        query = {"stage": stages[query["stage"]].pk}
    response = client_for(user).get(reverse("pipeline:opportunity-list"), query)
    page = response.context["page"]
    # The list as one query (account, owner, stage joined, the coach flag), newest first.
    rows = access.opportunities(user, selectors.opportunity_rows()).order_by("-created_at", "-pk")
    if "stage" in query:
        rows = rows.filter(stage=query["stage"])
    if "q" in query:
        rows = rows.filter(name__icontains="a") | rows.filter(account__name__icontains="a")
    start = (page.number - 1) * 25
    assert [_row(deal) for deal in page] == [_row(deal) for deal in list(rows)[start : start + 25]]
    assert page.paginator.count == rows.count()
