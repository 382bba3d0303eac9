import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline import selectors
from pipeline.models import Opportunity
from tests import factories


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


@pytest.fixture
def deal(account, stages):
    return factories.OpportunityFactory(account=account, stage=stages["Qualified"], name="Fleet deal")


def _move(client, deal, stage, **headers):
    return client.post(reverse("pipeline:opportunity-move", args=[deal.pk]), {"stage": stage.pk}, **headers)


def test_board_shows_a_column_per_stage_with_the_reps_deals(rep_client, deal, stages):
    factories.OpportunityFactory(name="Not mine", stage=stages["Lead"])
    response = rep_client.get(reverse("pipeline:opportunity-board"))
    columns = {c["stage"].name: [d.name for d in c["deals"]] for c in response.context["columns"]}
    assert list(columns) == list(stages)
    assert columns["Qualified"] == ["Fleet deal"]
    assert b"Not mine" not in response.content


def test_board_closed_columns_fold_without_script(rep_client, deal, stages):
    body = rep_client.get(reverse("pipeline:opportunity-board")).content.decode()
    # Won and Lost are <details> (folded by a tap, no inline script or style); open stages are not.
    for stage in ("Won", "Lost"):
        assert f'<details class="board-fold" open data-fold="{stages[stage].pk}"' in body
    assert f'data-fold="{stages["Proposal"].pk}"' not in body
    assert "<script>" not in body and 'style="' not in body


@pytest.mark.parametrize(
    ("rows", "columns"),
    # 50 deals spread over the five open stages, and 50 in one column: more than it shows.
    [(1, 5), (50, 5), (50, 1)],
)
def test_board_query_count_does_not_grow_with_rows(
    rep_client, account, stages, rows, columns, django_assert_num_queries
):
    for index in range(rows):
        factories.OpportunityFactory(account=account, stage=list(stages.values())[index % columns])
    # session, user, the stages with the ids of the first few deals of every column (one
    # window query, not a query per column; the coach flag, the column's count and total as
    # window aggregates there, not a query per column), the cards of those ids with
    # account/owner/stage joined (an N+1 on owner, account or "has a coach" would add queries
    # per card); the unread badge.
    with django_assert_num_queries(5):
        response = rep_client.get(reverse("pipeline:opportunity-board"))
    assert response.status_code == 200
    assert sum(column["count"] for column in response.context["columns"]) == rows


def _column(response, name):
    return next(column for column in response.context["columns"] if column["stage"].name == name)


def test_board_column_shows_its_first_deals_and_counts_and_totals_them_all(rep_client, rep, stages):
    coached, bare = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    limit = selectors.BOARD_COLUMN_LIMIT
    # More deals than the column shows: coached ones first whatever their amount, then by amount.
    bare_deals = [
        factories.OpportunityFactory(account=bare, stage=stages["Qualified"], amount=1000 * (i + 1))
        for i in range(limit)
    ]
    coached_deals = [
        factories.OpportunityFactory(account=coached, stage=stages["Qualified"], amount=10 * (i + 1)) for i in range(3)
    ]
    factories.OpportunityFactory(account=bare, stage=stages["Lead"], amount=5)
    # Another team's deal in the same stage is neither shown nor counted.
    factories.OpportunityFactory(stage=stages["Qualified"], amount=999999)

    response = rep_client.get(reverse("pipeline:opportunity-board"))

    qualified = _column(response, "Qualified")
    expected = coached_deals[::-1] + bare_deals[::-1][: limit - 3]
    assert [d.pk for d in qualified["deals"]] == [d.pk for d in expected]
    assert qualified["count"] == limit + 3
    assert qualified["total"] == sum(d.amount for d in bare_deals + coached_deals)
    assert qualified["more"] is True
    lead = _column(response, "Lead")
    assert (len(lead["deals"]), lead["count"], lead["total"], lead["more"]) == (1, 1, 5, False)
    negotiation = _column(response, "Negotiation")
    assert (negotiation["deals"], negotiation["count"], negotiation["total"]) == ([], 0, 0)
    content = response.content.decode()
    assert content.count('data-testid="show-all"') == 1
    assert f"Show all {limit + 3}" in content


def test_board_show_all_leads_to_the_list_of_exactly_that_columns_deals(rep_client, rep, account, stages):
    for _ in range(selectors.BOARD_COLUMN_LIMIT + 2):
        factories.OpportunityFactory(account=account, stage=stages["Qualified"])
    factories.OpportunityFactory(account=account, stage=stages["Lead"])
    response = rep_client.get(reverse("pipeline:opportunity-board"))
    qualified = _column(response, "Qualified")
    link = f"{reverse('pipeline:opportunity-list')}?stage={stages['Qualified'].pk}&amp;status=open"
    assert f'href="{link}"' in response.content.decode()

    listed = rep_client.get(qualified["list_url"])
    assert listed.context["page"].paginator.count == qualified["count"]
    shown = {d.pk for d in qualified["deals"]}
    assert shown < {d.pk for d in listed.context["filter"].qs}


def test_board_closed_columns_keep_thirty_days_and_show_all_lists_the_same_deals(
    client, rep, account, stages, settings, time_machine
):
    # A time zone far from UTC: "30 days" starts at the organisation's midnight, as the list's
    # `closed_from` date filter does, or the column and its "show all" list would disagree.
    settings.TIME_ZONE = "Asia/Shanghai"
    time_machine.move_to(datetime.datetime(2026, 5, 31, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    local = ZoneInfo("Asia/Shanghai")
    kept = [
        datetime.datetime(2026, 5, 1, 0, 0, tzinfo=local),  # the first moment of the 30th day back
        datetime.datetime(2026, 5, 31, 9, 0, tzinfo=local),
    ]
    gone = datetime.datetime(2026, 4, 30, 23, 59, tzinfo=local)
    won = [
        factories.OpportunityFactory(account=account, stage=stages["Won"], status="won", closed_at=at)
        for at in [*kept, gone]
    ]
    client.force_login(rep)

    columns = selectors.board_columns(user=rep, limit=1)

    column = next(c for c in columns if c["stage"].name == "Won")
    assert column["count"] == 2 and column["more"] is True
    assert column["filters"] == {"stage": stages["Won"].pk, "closed_from": "2026-05-01"}
    listed = client.get(reverse("pipeline:opportunity-list"), column["filters"])
    assert {d.pk for d in listed.context["filter"].qs} == {won[0].pk, won[1].pk}


def test_board_keeps_a_moved_deal_in_sight_beyond_the_column_limit(rep_client, rep, stages):
    coached = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    for _ in range(selectors.BOARD_COLUMN_LIMIT):
        factories.OpportunityFactory(account=coached, stage=stages["Coach confirmed"], amount=50000)
    small = factories.OpportunityFactory(account=coached, stage=stages["Qualified"], amount=10)

    response = _move(rep_client, small, stages["Coach confirmed"], HTTP_HX_REQUEST="true")

    column = _column(response, "Coach confirmed")
    assert column["deals"][0].pk == small.pk
    assert (len(column["deals"]), column["count"]) == (selectors.BOARD_COLUMN_LIMIT, selectors.BOARD_COLUMN_LIMIT + 1)


def test_board_shows_a_refusal_on_a_card_that_ranks_beyond_the_column_limit(rep_client, rep, stages):
    coached = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    for _ in range(selectors.BOARD_COLUMN_LIMIT):
        factories.OpportunityFactory(account=coached, stage=stages["Qualified"])
    uncoached = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Qualified"])

    response = _move(rep_client, uncoached, stages["Coach confirmed"], HTTP_HX_REQUEST="true")

    assert _column(response, "Qualified")["deals"][0].pk == uncoached.pk
    assert b'data-testid="move-error"' in response.content
    assert b"needs a" in response.content


def test_board_move_refused_at_the_gate_shows_the_reason_without_reload(rep_client, deal, stages):
    response = _move(rep_client, deal, stages["Coach confirmed"], HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.templates[0].name == "pipeline/_board.html"
    assert b'data-testid="move-error"' in response.content
    assert b"needs a" in response.content
    assert f"/coaches/new/?account={deal.account_id}".encode() in response.content
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"] and deal.held_back


def test_board_move_with_a_coach_moves_the_card(rep_client, deal, stages):
    factories.CoachFactory(account=deal.account)
    response = _move(rep_client, deal, stages["Coach confirmed"], HTTP_HX_REQUEST="true")
    columns = {c["stage"].name: c["deals"] for c in response.context["columns"]}
    assert [d.pk for d in columns["Coach confirmed"]] == [deal.pk]
    assert b"move-error" not in response.content


def test_move_without_htmx_redirects_with_a_message(rep_client, deal, stages):
    response = _move(rep_client, deal, stages["Proposal"])
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    response = rep_client.get(response.url)
    assert b"needs a" in response.content
    assert b"Record a coach" in response.content


def test_move_is_404_out_of_scope_405_on_get_and_400_without_stage(rep_client, deal, stages):
    theirs = factories.OpportunityFactory(stage=stages["Lead"])
    assert _move(rep_client, theirs, stages["Qualified"]).status_code == 404
    assert rep_client.get(reverse("pipeline:opportunity-move", args=[deal.pk])).status_code == 405
    assert rep_client.post(reverse("pipeline:opportunity-move", args=[deal.pk]), {}).status_code == 400


def test_opportunity_list_filters(rep_client, account, stages):
    factories.OpportunityFactory(account=account, name="Alpha", stage=stages["Lead"])
    factories.OpportunityFactory(account=account, name="Beta", stage=stages["Qualified"], held_back=True)
    response = rep_client.get(reverse("pipeline:opportunity-list"), {"held_back": "true"})
    assert [d.name for d in response.context["page"]] == ["Beta"]
    response = rep_client.get(reverse("pipeline:opportunity-list"), {"q": "alp", "stage": stages["Lead"].pk})
    assert [d.name for d in response.context["page"]] == ["Alpha"]


@pytest.mark.parametrize("rows", [1, 50])
def test_opportunity_list_query_count(rep_client, account, stages, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.OpportunityFactory(account=account, held_back=True)
    # session, user, the visible accounts (once, for the count and the page), the stage
    # filter's choices, count, the page with account/owner/stage joined and the coach flag as
    # a subquery (no query per row), the unread badge.
    with django_assert_num_queries(7):
        rep_client.get(reverse("pipeline:opportunity-list"))


@pytest.mark.parametrize("rows", [1, 50])
def test_needs_a_coach_query_count(rep_client, account, stages, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.OpportunityFactory(account=account, held_back=True)
    # session, user, the visible accounts (once), count, the page with its joins and coach flag
    # (no query per row), the unread badge.
    with django_assert_num_queries(6):
        response = rep_client.get(reverse("pipeline:opportunity-held-back"))
    assert len(response.context["page"]) == min(rows, 25)
    assert b"Record a coach" in response.content


def test_home_work_list_puts_coached_deals_first_then_stage_then_amount(rep_client, rep, stages):
    plain, coached = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=coached)
    big_lead = factories.OpportunityFactory(account=plain, amount=900, stage=stages["Qualified"])
    small = factories.OpportunityFactory(account=coached, amount=1, stage=stages["Lead"])
    late = factories.OpportunityFactory(account=coached, amount=1, stage=stages["Proposal"])
    big = factories.OpportunityFactory(account=coached, amount=500, stage=stages["Lead"])
    factories.OpportunityFactory(account=coached, stage=stages["Won"], status="won")
    response = rep_client.get(reverse("home"))
    assert [d.pk for d in response.context["page"]] == [late.pk, big.pk, small.pk, big_lead.pk]


def test_opportunity_detail_shows_stage_history_and_404_out_of_scope(rep_client, manager, deal, stages):
    from pipeline import services

    services.opportunity_override(opportunity=deal, stage=stages["Proposal"], by=manager, reason="Board sponsor")
    response = rep_client.get(deal.get_absolute_url())
    assert b"Board sponsor" in response.content and b"Override" in response.content
    assert b"Override the gate" not in response.content  # reps cannot
    theirs = factories.OpportunityFactory(stage=stages["Lead"])
    assert rep_client.get(theirs.get_absolute_url()).status_code == 404


def test_opportunity_create_page(rep_client, rep, account, stages):
    line = factories.ProductLineFactory()
    response = rep_client.post(
        reverse("pipeline:opportunity-create"),
        {"account": account.pk, "name": "New", "product_line": line.pk, "amount": "1200"},
    )
    deal = Opportunity.objects.get()
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    assert (deal.owner, deal.stage) == (rep, stages["Lead"])


def test_opportunity_create_page_refuses_a_gated_stage_without_coach(rep_client, account, stages):
    line = factories.ProductLineFactory()
    response = rep_client.post(
        reverse("pipeline:opportunity-create"),
        {"account": account.pk, "name": "New", "product_line": line.pk, "amount": "1", "stage": stages["Proposal"].pk},
    )
    assert response.status_code == 200
    assert "needs a" in response.context["form"].non_field_errors()[0]
    assert b"Record a coach" in response.content
    assert not Opportunity.objects.exists()


def test_opportunity_create_form_error_and_wrong_method(rep_client, other_rep):
    response = rep_client.post(reverse("pipeline:opportunity-create"), {"name": ""})
    assert response.context["form"].errors["name"]
    assert rep_client.delete(reverse("pipeline:opportunity-create")).status_code == 405
    account = factories.AccountFactory(owner=other_rep)
    assert rep_client.get(reverse("pipeline:opportunity-create") + f"?account={account.pk}").status_code == 404


def test_opportunity_update_page_never_changes_the_stage(rep_client, deal, stages):
    url = reverse("pipeline:opportunity-update", args=[deal.pk])
    response = rep_client.post(
        url, {"name": "Renamed", "product_line": deal.product_line_id, "amount": "5", "stage": stages["Won"].pk}
    )
    deal.refresh_from_db()
    assert response.status_code == 302
    assert (deal.name, deal.stage) == ("Renamed", stages["Qualified"])
    assert rep_client.post(url, {"name": ""}).context["form"].errors["name"]


def test_override_page_for_the_manager(manager_client, deal, stages):
    url = reverse("pipeline:opportunity-override", args=[deal.pk])
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(url, {"stage": stages["Proposal"].pk, "reason": "Known sponsor"})
    deal.refresh_from_db()
    assert response.status_code == 302 and deal.stage == stages["Proposal"]
    assert deal.stage_changes.get().kind == "override"


def test_override_page_refuses_a_rep_and_a_missing_reason(client, rep, manager, deal, stages):
    url = reverse("pipeline:opportunity-override", args=[deal.pk])
    client.force_login(rep)
    response = client.post(url, {"stage": stages["Proposal"].pk, "reason": "please"})
    assert b"Only the owner&#x27;s manager or an admin" in response.content
    client.force_login(manager)
    response = client.post(url, {"stage": stages["Proposal"].pk, "reason": ""})
    assert response.context["form"].errors["reason"]
    deal.refresh_from_db()
    assert deal.stage == stages["Qualified"]


# --- closing and reopening ---------------------------------------------------------------------


def test_board_lost_and_won_are_links_to_a_confirmation_not_one_tap_moves(rep_client, deal, stages):
    content = rep_client.get(reverse("pipeline:opportunity-board")).content.decode()
    lost_url = reverse("pipeline:opportunity-close", args=[deal.pk, stages["Lost"].pk])
    assert f'href="{lost_url}?next=' in content
    assert f'name="stage" value="{stages["Lost"].pk}"' not in content


def test_a_move_to_a_closed_stage_goes_to_the_confirmation_and_moves_nothing(rep_client, deal, stages):
    close_url = reverse("pipeline:opportunity-close", args=[deal.pk, stages["Lost"].pk])
    response = _move(rep_client, deal, stages["Lost"])
    assert response.status_code == 302 and response.url == close_url
    # A card dropped on the Lost column (htmx): the browser is sent to the same page.
    response = _move(rep_client, deal, stages["Lost"], HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == close_url
    deal.refresh_from_db()
    assert deal.status == "open"


def test_lost_confirmation_asks_for_a_reason_then_closes_and_returns_to_the_board(
    rep_client, deal, stages, loss_reason
):
    board = reverse("pipeline:opportunity-board")
    url = reverse("pipeline:opportunity-close", args=[deal.pk, stages["Lost"].pk])
    page = rep_client.get(url, {"next": board})
    assert page.status_code == 200 and b"Why was it lost?" in page.content
    response = rep_client.post(url, {"stage": stages["Lost"].pk, "next": board})
    assert response.context["form"].errors["loss_reason"]
    response = rep_client.post(
        url, {"stage": stages["Lost"].pk, "loss_reason": loss_reason.pk, "loss_note": "incumbent", "next": board}
    )
    assert response.status_code == 302 and response.url == board
    deal.refresh_from_db()
    assert (deal.status, deal.loss_reason, deal.loss_note) == ("lost", loss_reason, "incumbent")
    assert b"Price" in rep_client.get(deal.get_absolute_url()).content


def test_won_confirmation_closes_and_a_foreign_next_is_ignored(rep_client, deal, stages):
    factories.CoachFactory(account=deal.account)
    url = reverse("pipeline:opportunity-close", args=[deal.pk, stages["Won"].pk])
    assert b"Why was it lost?" not in rep_client.get(url).content
    response = rep_client.post(url, {"stage": stages["Won"].pk, "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    deal.refresh_from_db()
    assert deal.status == "won"


def test_close_page_is_404_out_of_scope_and_for_an_open_stage_and_405_on_put(rep_client, other_rep, deal, stages):
    theirs = factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep))
    assert rep_client.get(reverse("pipeline:opportunity-close", args=[theirs.pk, stages["Lost"].pk])).status_code == 404
    assert rep_client.get(reverse("pipeline:opportunity-close", args=[deal.pk, stages["Lead"].pk])).status_code == 404
    assert rep_client.put(reverse("pipeline:opportunity-close", args=[deal.pk, stages["Lost"].pk])).status_code == 405


def test_reopen_page_for_the_manager_and_refused_to_the_rep(client, rep, manager, deal, stages, loss_reason):
    from pipeline import services

    services.opportunity_move(opportunity=deal, stage=stages["Lost"], by=rep, loss_reason=loss_reason)
    url = reverse("pipeline:opportunity-reopen", args=[deal.pk])
    client.force_login(rep)
    assert b"/reopen/" not in client.get(deal.get_absolute_url()).content
    response = client.post(url, {"stage": stages["Lead"].pk, "reason": "please"})
    assert b"Only the owner&#x27;s manager or an admin" in response.content
    client.force_login(manager)
    assert b"/reopen/" in client.get(deal.get_absolute_url()).content
    assert client.post(url, {"stage": stages["Lead"].pk, "reason": ""}).context["form"].errors["reason"]
    response = client.post(url, {"stage": stages["Lead"].pk, "reason": "budget is back"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.status, deal.stage) == ("open", stages["Lead"])
    assert b"budget is back" in client.get(deal.get_absolute_url()).content


# --- dashboard ---------------------------------------------------------------------------------


def test_dashboard_counts_loss_reasons_by_stage_with_and_without_coach(manager_client, rep, stages, loss_reason):
    from pipeline import services

    account = factories.AccountFactory(owner=rep)
    for stage in ("Qualified", "Qualified", "Lead"):
        deal = factories.OpportunityFactory(account=account, stage=stages[stage])
        services.opportunity_move(opportunity=deal, stage=stages["Lost"], by=rep, loss_reason=loss_reason)
    losses = manager_client.get(DASHBOARD).context["summary"]["losses"]
    assert losses == [
        {"reason": "Price", "stage": "Qualified", "with_coach": 0, "without_coach": 2, "count": 2},
        {"reason": "Price", "stage": "Lead", "with_coach": 0, "without_coach": 1, "count": 1},
    ]


DASHBOARD = "/pipeline/dashboard/"


def _team_pipeline(rep, stages, rows: int) -> None:
    """`rows` deals in bulk (open across the stages, some closed this quarter), each with its move in."""
    from pipeline.models import Opportunity, StageChange

    account = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=account)
    product_line = factories.ProductLineFactory()
    now = timezone.now()
    order = list(stages.values())
    deals = Opportunity.objects.bulk_create(
        Opportunity(
            account=account,
            name=f"Deal {index}",
            product_line=product_line,
            amount=1000 + index,
            stage=order[index % len(order)],
            owner=rep,
            status="won"
            if order[index % len(order)].is_won
            else "lost"
            if order[index % len(order)].is_lost
            else "open",
            closed_at=now if order[index % len(order)].is_closed else None,
            had_coach_at_close=index % 2 == 0 if order[index % len(order)].is_closed else None,
            held_back=index % 7 == 1,
            held_back_since=now if index % 7 == 1 else None,
        )
        for index in range(rows)
    )
    StageChange.objects.bulk_create(
        StageChange(opportunity=deal, from_stage=stages["Lead"], to_stage=deal.stage, at=now, kind="advance", owner=rep)
        for deal in deals
    )


@pytest.mark.parametrize("rows", [10, 1000])
def test_dashboard_query_count_is_fixed(manager_client, rep, stages, rows, django_assert_num_queries):
    _team_pipeline(rep, stages, rows)
    # session, user, the team for the rep-or-team picker, stages, open-and-closed deals grouped
    # by stage, moves in, moves out, losses by reason and stage, coach health, the held-back list,
    # the unread badge, the regions and product lines for the filters, the retention of the team's
    # departures; and the forecast's five (stages, win rates, totals, months, undated deals). Every
    # figure is an aggregate: looping over deals (or a query per stage) would grow with the rows.
    with django_assert_num_queries(19):
        response = manager_client.get(DASHBOARD)
    assert response.status_code == 200
    # Of every seven deals, five are open (Lead … Negotiation) and two closed (Won, Lost).
    assert response.context["summary"]["totals"]["count"] == sum(1 for index in range(rows) if index % 7 < 5)


def test_dashboard_shows_the_teams_funnel_win_rates_and_held_back(manager_client, rep, stages):
    account = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=account)
    factories.OpportunityFactory(account=account, stage=stages["Proposal"], name="Big one", amount=50000)
    factories.OpportunityFactory(
        account=account, stage=stages["Qualified"], held_back=True, held_back_since=timezone.now(), name="Waiting"
    )
    response = manager_client.get(DASHBOARD)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('role="img"') == 3 and "<title" in content
    assert "Waiting" in content and str(rep) in content
    assert "Too few closed deals" in content
    assert f"team={response.wsgi_request.user.pk}" in content
    assert "Dashboard" in content  # navigation entry


def test_dashboard_numbers_match_the_lists_they_link_to(manager_client, manager, rep, other_rep, stages):
    from pipeline.dashboard import quarter_of

    account = factories.AccountFactory(owner=rep)
    factories.CoachFactory(account=account)
    bare = factories.AccountFactory(owner=rep)
    for target in (account, bare, bare):
        deal = factories.OpportunityFactory(account=target, stage=stages["Qualified"])
        factories.StageChangeFactory(opportunity=deal, from_stage=stages["Lead"], to_stage=stages["Qualified"])
    factories.OpportunityFactory(
        account=account, stage=stages["Won"], status="won", closed_at=timezone.now(), had_coach_at_close=True
    )
    # Another team's deal on an account the manager's rep holds a coach at: visible in the
    # list, but not the team's, so the link must leave it out too.
    factories.OpportunityFactory(account=account, owner=other_rep, stage=stages["Qualified"])
    summary = manager_client.get(DASHBOARD).context["summary"]
    start, end = quarter_of(timezone.localdate())
    team = f"team={manager.pk}"
    qualified = next(r for r in summary["funnel"] if r["name"] == "Qualified")
    links = {
        f"?{team}&status=open&stage={stages['Qualified'].pk}": qualified["count"],
        f"?{team}&status=open&stage={stages['Qualified'].pk}&has_coach=true": qualified["covered"],
        f"?{team}&moved_from={start}&moved_to={end}&entered_stage={stages['Qualified'].pk}": qualified["entered"],
        f"?{team}&closed_from={start}&closed_to={end}&status=won&had_coach=true": summary["win_rate"]["with_coach"][
            "won"
        ],
    }
    assert list(links.values()) == [3, 1, 3, 1]
    for query, expected in links.items():
        response = manager_client.get(reverse("pipeline:opportunity-list") + query)
        assert response.context["page"].paginator.count == expected, query
        assert b'data-testid="drilldown"' in response.content


def test_a_reps_dashboard_is_limited_to_his_deals(rep_client, rep, other_rep, stages):
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Lead"])
    factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), stage=stages["Lead"])
    response = rep_client.get(DASHBOARD, {"who": f"user:{other_rep.pk}"})
    assert response.context["summary"]["totals"]["count"] == 1
    assert "who" not in response.context["form"].fields
    assert f"owner={rep.pk}" in response.content.decode()
    listed = rep_client.get(reverse("pipeline:opportunity-list"), {"owner": rep.pk})
    assert listed.context["page"].paginator.count == 1


def test_dashboard_rejects_an_end_before_the_start(manager_client):
    response = manager_client.get(DASHBOARD, {"start": "2026-06-30", "end": "2026-04-01"})
    assert response.status_code == 200 and response.context["summary"] is None
    assert "ends before it starts" in response.content.decode()


def test_a_manager_cannot_pick_another_teams_rep(manager_client, other_rep):
    response = manager_client.get(DASHBOARD, {"who": f"user:{other_rep.pk}"})
    assert response.context["summary"] is None
    assert "Select a valid choice" in response.content.decode()


def test_an_admin_picks_a_managers_team(admin_client, rep, other_rep, stages):
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Lead"])
    factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), stage=stages["Lead"])
    assert admin_client.get(DASHBOARD).context["summary"]["totals"]["count"] == 2
    response = admin_client.get(DASHBOARD, {"who": f"team:{rep.manager_id}"})
    assert response.context["summary"]["totals"]["count"] == 1


def test_dashboard_only_answers_get(manager_client):
    assert manager_client.post(DASHBOARD).status_code == 405
    assert manager_client.post(reverse("pipeline:dashboard-export")).status_code == 405


def test_dashboard_csv_export(manager_client, rep, stages):
    factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), stage=stages["Proposal"], amount=1234)
    response = manager_client.get(reverse("pipeline:dashboard-export"), {"start": "2026-01-01", "end": "2026-03-31"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="dashboard-2026-01-01-2026-03-31.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0] == "Period,2026-01-01,2026-03-31"
    assert any(line.startswith("Proposal,1,1234.00,740.40,") for line in lines)
    bad = manager_client.get(reverse("pipeline:dashboard-export"), {"start": "2026-03-31", "end": "2026-01-01"})
    assert bad.status_code == 400


# --- people on the deal and the mirror playbook -------------------------------------------------


def test_opportunity_page_shows_the_playbook_card_and_the_mismatch_for_its_owner(rep_client, rep, deal):
    rep.selling_style = "expressive"
    rep.save()
    coach = factories.CoachFactory(account=deal.account, holder=rep)
    buyer = factories.OpportunityContactFactory(opportunity=deal).contact
    factories.StyleReportFactory(coach=coach, contact=buyer, style="analytical")
    response = rep_client.get(deal.get_absolute_url())
    content = response.content.decode()
    assert "You are Expressive, the buyer is Analytical:" in content
    assert "slow down, bring the numbers" in content
    assert 'data-testid="style-mismatch"' in content


def test_opportunity_page_asks_the_coach_when_the_style_is_unknown(rep_client, deal):
    factories.OpportunityContactFactory(opportunity=deal)
    content = rep_client.get(deal.get_absolute_url()).content.decode()
    assert "style unknown" in content and "Ask the coach" in content and "style-mismatch" not in content


def test_opportunity_contact_add_and_remove(rep_client, account, deal):
    person = factories.person_at(account)
    url = reverse("pipeline:opportunitycontact-create", args=[deal.pk])
    response = rep_client.post(url, {"contact": person.pk, "role": "decision_maker"})
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    row = deal.contact_roles.get()
    assert (row.contact, row.role) == (person, "decision_maker")
    assert rep_client.post(reverse("pipeline:opportunitycontact-delete", args=[row.pk])).status_code == 302
    assert not deal.contact_roles.exists()


def test_opportunity_contact_form_lists_only_the_accounts_current_people(rep_client, account, deal):
    current = factories.person_at(account, title="Buyer")
    former = factories.person_at(account, end_date=timezone.localdate())
    elsewhere = factories.person_at(factories.AccountFactory(owner=deal.owner))
    body = rep_client.get(deal.get_absolute_url()).content.decode()
    form = body[body.index(reverse("pipeline:opportunitycontact-create", args=[deal.pk])) :]
    form = form[: form.index("</form>")]
    assert form.count(f'<option value="{current.pk}"') == 1
    assert f'value="{former.pk}"' not in form and f'value="{elsewhere.pk}"' not in form
    # Its own ids: the committee form on the page has a person and a role too.
    assert 'id="people_contact"' in form and 'for="people_contact"' in form
    assert body.count('id="id_contact"') == 1
    # Removing a person asks first.
    factories.OpportunityContactFactory(opportunity=deal, contact=current)
    body = rep_client.get(deal.get_absolute_url()).content.decode()
    assert 'data-confirm="Remove' in body


def test_opportunity_contact_add_refuses_someone_from_elsewhere(rep_client, deal):
    stranger = factories.person_at(factories.AccountFactory())
    response = rep_client.post(
        reverse("pipeline:opportunitycontact-create", args=[deal.pk]),
        {"contact": stranger.pk, "role": "user"},
        follow=True,
    )
    assert b"Choose a person who works at the account" in response.content
    assert not deal.contact_roles.exists()


def test_opportunity_contact_pages_are_404_out_of_scope_and_405_on_get(client, other_rep, deal):
    row = factories.OpportunityContactFactory(opportunity=deal)
    client.force_login(other_rep)
    assert client.post(reverse("pipeline:opportunitycontact-create", args=[deal.pk])).status_code == 404
    assert client.post(reverse("pipeline:opportunitycontact-delete", args=[row.pk])).status_code == 404
    client.force_login(deal.owner)
    assert client.get(reverse("pipeline:opportunitycontact-create", args=[deal.pk])).status_code == 405


def test_a_coach_role_on_the_deal_is_hidden_from_who_may_not_see_the_coach(client, rep, manager, deal):
    coach = factories.CoachFactory(account=deal.account, holder=factories.RepFactory())
    factories.OpportunityContactFactory(opportunity=deal, contact=coach.contact, role="coach")
    client.force_login(rep)  # owns the deal, does not hold the coach
    assert client.get(deal.get_absolute_url()).context["contact_roles"] == []
    client.force_login(factories.AdminFactory())
    assert len(client.get(deal.get_absolute_url()).context["contact_roles"]) == 1


def test_dashboard_shows_the_retention_of_the_teams_departures(manager_client, manager, rep):
    import datetime

    from django.utils import timezone

    from coaches.models import Handover

    departed = factories.RepFactory(
        manager=manager, status="departed", departure_date=timezone.localdate() - datetime.timedelta(days=100)
    )
    coach = factories.CoachFactory(holder=rep)
    handover = Handover.objects.create(coach=coach, from_user=departed, to_user=rep, due_on=timezone.localdate())
    Handover.objects.filter(pk=handover.pk).update(created_at=timezone.now() - datetime.timedelta(days=95))
    factories.InteractionFactory(coach=coach, user=rep, occurred_on=timezone.localdate() - datetime.timedelta(days=20))
    response = manager_client.get(DASHBOARD)
    retention = response.context["summary"]["retention"]
    assert retention["departures"][0]["kept"] == 1
    assert b'data-testid="retention"' in response.content


def test_a_reps_dashboard_has_no_retention_card(rep_client):
    response = rep_client.get(DASHBOARD)
    assert response.context["summary"]["retention"] is None
    assert b'data-testid="retention"' not in response.content


def test_opportunity_export_has_the_list_filters_and_neutralises_formulas(rep_client, rep, stages):
    account = factories.AccountFactory(owner=rep, name="=HYPERLINK(1)")
    factories.OpportunityFactory(account=account, name="Kept", stage=stages["Qualified"])
    factories.OpportunityFactory(account=account, name="Filtered out")
    response = rep_client.get(reverse("pipeline:opportunity-export"), {"stage": stages["Qualified"].pk})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffname,account,")
    assert "Kept,'=HYPERLINK(1)" in body
    assert "Filtered out" not in body


def test_opportunity_export_is_scoped_to_the_user(rep_client, other_rep, stages):
    factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), name="Theirs")
    body = b"".join(rep_client.get(reverse("pipeline:opportunity-export")).streaming_content).decode()
    assert "Theirs" not in body


def test_opportunity_export_refuses_post(rep_client):
    assert rep_client.post(reverse("pipeline:opportunity-export")).status_code == 405
