"""The home page's work list read per (coach flag, stage) group on PostgreSQL, and Today's deal sections
cut on the deals alone: the same rows in the same order as before."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

import access
from agenda import selectors as agenda_selectors
from coachcrm.pagination import BoundedPaginator
from pipeline import selectors
from pipeline.models import Opportunity, Stage
from tests import factories


@pytest.fixture
def crowd(rep, other_rep, manager, stages):
    """Deals of two teams on coached and uncoached accounts, in every open stage, with ties on amount."""
    # A stage whose id is the highest but whose order falls between two others: the walk must
    # follow the stages' order, not their ids.
    middle = Stage.objects.create(name="Pilot", order=stages["Proposal"].order + 5, probability=50)
    second = factories.RepFactory(manager=manager)
    accounts = []
    for index, owner in enumerate([rep, rep, second, other_rep, rep, second, other_rep]):
        account = factories.AccountFactory(owner=owner)
        if index % 2 == 0:
            factories.CoachFactory(account=account)
        elif index == 3:
            factories.CoachFactory(account=account, credible=False)  # not a real coach: no flag
        accounts.append(account)
    # Another team's account that the rep's team holds a coach at: seen by the manager through the holder.
    held = factories.AccountFactory(owner=other_rep)
    factories.CoachFactory(account=held, holder=rep)
    accounts.append(held)
    open_stages = [stages["Lead"], stages["Qualified"], stages["Coach confirmed"], stages["Proposal"], middle]
    open_stages.append(stages["Negotiation"])
    for index in range(150):
        account = accounts[index % len(accounts)]
        factories.OpportunityFactory(
            account=account,
            owner=account.owner if index % 5 else second,
            stage=open_stages[index % len(open_stages)],
            amount=[100, 250, 250, 900, 5][index % 5],  # ties, broken by id
        )
    for index, stage in enumerate([stages["Won"], stages["Lost"]]):
        factories.OpportunityFactory(account=accounts[index], stage=stage, status=("won", "lost")[index])


def _sorted_ids(user):
    return list(selectors.work_list(user=user).values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["rep", "other_rep", "manager", "admin_user"])
@pytest.mark.parametrize("per_page", [7, 25])
def test_work_list_pages_read_per_group_are_the_sorted_lists_pages(request, crowd, who, per_page):
    user = request.getfixturevalue(who)
    expected = _sorted_ids(user)
    assert expected  # every user sees some deals
    paginator = BoundedPaginator(selectors.work_list(user=user), per_page)
    pages = []
    for number in paginator.page_range:
        rows = selectors.work_list_rows(deals=paginator.page(number).object_list, user=user)
        # PostgreSQL walks the groups for a manager or an admin; elsewhere the list is sorted whole.
        assert ("LATERAL" in str(rows.query)) == (connection.vendor == "postgresql" and not user.is_rep)
        pages.append([deal.pk for deal in rows])
    assert [pk for page in pages for pk in page] == expected
    assert all(len(page) == per_page for page in pages[:-1])


def test_work_list_rows_follow_a_coach_recorded_or_lost_and_a_deal_moved(manager, crowd, stages):
    deal = Opportunity.objects.filter(status="open", amount=5, owner__manager=manager).first()
    deal.stage = stages["Negotiation"]
    deal.amount = 10**6
    deal.save()
    factories.CoachFactory(account=factories.AccountFactory(owner=manager))
    coach = factories.CoachFactory(account=deal.account)
    first = BoundedPaginator(selectors.work_list(user=manager), 25).page(1).object_list
    assert next(iter(selectors.work_list_rows(deals=first, user=manager))).pk == deal.pk
    coach.status = "ended"
    coach.save()
    for other in deal.account.coaches.exclude(pk=coach.pk):
        other.status = "ended"
        other.save()
    first = BoundedPaginator(selectors.work_list(user=manager), 25).page(1).object_list
    assert [d.pk for d in selectors.work_list_rows(deals=first, user=manager)] == _sorted_ids(manager)[:25]


def _sections_as_they_were(user, day):
    # agenda.selectors.today's deal sections before they were cut on the deals alone.
    deals = access.opportunities(user, Opportunity.objects.open().filter(owner=user)).select_related("account", "stage")
    return {
        "held_back": deals.filter(held_back=True).order_by("held_back_since", "pk"),
        "past_close": deals.filter(expected_close__lt=day).order_by("expected_close", "pk"),
    }


@pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
def test_today_deal_sections_are_the_rows_they_were(request, rep, stages, who):
    user = request.getfixturevalue(who)
    day = timezone.localdate()
    since = timezone.now() - datetime.timedelta(days=3)
    # Past SECTION_LIMIT in each section, ties on the order's date, a deal in both sections, some on
    # another rep's account (his own deal, so his to see), closed and future ones left out.
    elsewhere = factories.AccountFactory()
    for index in range(30):
        factories.OpportunityFactory(
            account=elsewhere if index % 7 == 0 else factories.AccountFactory(owner=user),
            owner=user,
            stage=stages["Lead"],
            held_back=index % 3 != 0,
            held_back_since=since + datetime.timedelta(hours=index % 4),
            expected_close=day + datetime.timedelta(days=[-5, -1, -1, 2, -30][index % 5]),
        )
    factories.OpportunityFactory(account=elsewhere, owner=user, stage=stages["Won"], status="won", held_back=False)
    once = False if user.is_admin else access.account_ids(user, once=True)
    found = agenda_selectors.today(user=user, day=day, once=once)
    expected = _sections_as_they_were(user, day)
    for name, rows in expected.items():
        rows = list(rows[: agenda_selectors.SECTION_LIMIT + 1])
        assert [d.pk for d in found["sections"][name]] == [d.pk for d in rows[: agenda_selectors.SECTION_LIMIT]]
        assert found["more"][name] == (len(rows) > agenda_selectors.SECTION_LIMIT)
        assert [d.account.name for d in found["sections"][name]] == [d.account.name for d in rows[:20]]
    # And without the evaluated scope (the API's call).
    again = agenda_selectors.today(user=user, day=day)
    assert {n: [d.pk for d in r] for n, r in again["sections"].items()} == {
        n: [d.pk for d in r] for n, r in found["sections"].items()
    }


@pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
def test_home_shows_the_work_list_in_its_order(request, client_for, crowd, who):
    user = request.getfixturevalue(who)
    response = client_for(user).get(reverse("home") + "?page=2")
    assert response.status_code == 200
    assert [d.pk for d in response.context["page"]] == _sorted_ids(user)[25:50]
