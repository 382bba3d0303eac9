"""The board's columns (ids first, then the cards) against the same columns computed from the visible deals."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

import access
from pipeline import selectors
from pipeline.models import Opportunity
from tests import factories


def expected_columns(user, stages, limit):
    """Each stage's deals as the board shows them, from `access.opportunities` sorted in Python."""
    since = selectors.board_since()
    visible = [
        deal
        for deal in access.opportunities(user, Opportunity.objects.with_coach_flag())
        if deal.status == Opportunity.Status.OPEN or (deal.closed_at and deal.closed_at >= since)
    ]
    columns = {}
    for stage in stages:
        deals = sorted((d for d in visible if d.stage_id == stage.pk), key=lambda d: (not d.has_coach, -d.amount, d.pk))
        columns[stage.pk] = (
            [(d.pk, d.has_coach) for d in deals[:limit]],
            len(deals),
            sum((d.amount for d in deals), Decimal("0.00")),
        )
    return columns


@pytest.fixture
def history(rep, other_rep, manager, stages):
    """Deals of the rep, of a colleague in his team, of another team, on coached and bare accounts, open and closed."""
    colleague = factories.RepFactory(manager=manager)
    coached = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    accounts = [coached, factories.AccountFactory(owner=rep), factories.AccountFactory(owner=colleague)]
    theirs = factories.AccountFactory(owner=other_rep)
    now = timezone.now()
    names = ["Lead", "Qualified", "Proposal", "Won", "Lost"]
    for index in range(60):
        stage = stages[names[index % len(names)]]
        closed = stage.is_won or stage.is_lost
        account = theirs if index % 7 == 0 else accounts[index % 3]
        factories.OpportunityFactory(
            account=account,
            # A colleague's deal at the rep's account: seen through the account, not the owner.
            owner=colleague if index % 11 == 0 else account.owner,
            stage=stage,
            amount=Decimal(100 * (index % 9)),  # equal amounts: the id breaks the tie
            status=("won" if stage.is_won else "lost") if closed else "open",
            # Some closed within the board's 30 days, some before.
            closed_at=now - datetime.timedelta(days=5 if index % 2 else 60) if closed else None,
        )
    return colleague


@pytest.mark.parametrize("who", ["rep", "manager", "admin_user"])
def test_board_columns_equal_the_visible_deals_sorted(who, history, request, stages):
    user = request.getfixturevalue(who)
    limit = 4
    columns = selectors.board_columns(user=user, limit=limit)
    assert [column["stage"].pk for column in columns] == [stage.pk for stage in stages.values()]
    expected = expected_columns(user, stages.values(), limit)
    for column in columns:
        shown = [(deal.pk, deal.has_coach) for deal in column["deals"]]
        total = column["total"] if column["count"] else Decimal("0.00")
        assert (shown, column["count"], total) == expected[column["stage"].pk], column["stage"].name
        # The cards carry what a card shows, joined.
        assert all(deal.account.name and deal.owner.username for deal in column["deals"])
    assert any(column["more"] for column in columns)


def test_board_pins_a_deal_beyond_the_limit_at_the_top_of_its_column(rep, history, stages):
    lowest = selectors.board_columns(user=rep, limit=100)[1]["deals"][-1]
    column = selectors.board_columns(user=rep, limit=2, pinned=lowest.pk)[1]
    assert column["deals"][0].pk == lowest.pk and len(column["deals"]) == 2


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_board_cards_link_to_their_deal_their_move_and_their_closings(who, history, request, client_for, stages):
    # The card's links are reversed once per board with a stand-in id (pipeline.views): each
    # card must still get its own deal's, as `{% url %}` gave them.
    user = request.getfixturevalue(who)
    response = client_for(user).get(reverse("pipeline:opportunity-board"))
    content = response.content.decode()
    board = reverse("pipeline:opportunity-board")
    cards = [deal for column in response.context["columns"] for deal in column["deals"]]
    assert cards
    for deal in cards:
        assert f'href="{reverse("pipeline:opportunity-detail", args=[deal.pk])}"' in content
        if deal.is_open:
            move = reverse("pipeline:opportunity-move", args=[deal.pk])
            assert f'data-move-url="{move}"' in content and f'action="{move}" hx-post="{move}"' in content
            for closing in ("Won", "Lost"):
                close = reverse("pipeline:opportunity-close", args=[deal.pk, stages[closing].pk])
                assert f'href="{close}?next={board}"' in content


def test_a_card_escapes_what_users_typed_and_shows_its_badges(rep, client_for, stages):
    # The cards are written in Python (pipeline/templatetags/board.py), not by the template
    # language's autoescape: each value from the deal must still be escaped.
    account = factories.AccountFactory(owner=rep, name='Bolt & "Nut" <Co>')
    open_deal = factories.OpportunityFactory(account=account, name="<script>alert(1)</script>", held_back=True)
    factories.OpportunityFactory(
        account=account,
        name="Won <b>deal</b>",
        stage=stages["Won"],
        status="won",
        closed_at=timezone.now(),
        had_coach_at_close=False,
    )

    content = client_for(rep).get(reverse("pipeline:opportunity-board")).content.decode()

    assert "<script>alert(1)</script>" not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "Won &lt;b&gt;deal&lt;/b&gt;" in content
    assert "Bolt &amp; &quot;Nut&quot; &lt;Co&gt;" in content
    start = content.rindex('<div class="card shadow-sm', 0, content.index(f'id="deal-{open_deal.pk}"'))
    card = content[start:].split('<div class="card shadow-sm', 2)[1]
    assert "border-warning" in card and "held back" in card and "no coach" in card
    assert "in this stage for" in card and 'name="csrfmiddlewaretoken"' in card
    assert "won without coach" in content
