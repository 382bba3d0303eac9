import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from service_catalog import services
from service_catalog.models import Authority, Grant, ServiceItem
from tests import factories

D = Decimal


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep, name="Acme Tools")


@pytest.fixture
def recipient(account):
    return factories.person_at(account, contact__first_name="Lena", contact__last_name="Novak")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def pending_grant(rep, account, recipient, cost="350.00"):
    return services.grant_request(
        by=rep,
        item=factories.ServiceItemFactory(unit_cost=D(cost)),
        quantity=1,
        account=account,
        recipient=recipient,
        reason="relationship",
    )


# --- what I may give -------------------------------------------------------------------------


def test_allowance_shows_the_active_catalog_and_what_is_left_this_month(rep_client, rep, account, recipient):
    factories.ServiceItemFactory(name="Lunch")
    factories.ServiceItemFactory(name="Retired gift", active=False)
    factories.GrantFactory(rep=rep, account=account, recipient=recipient, item__unit_cost=D("250.00"))
    response = rep_client.get(reverse("service_catalog:allowance"))
    assert b"Lunch" in response.content
    assert b"Retired gift" not in response.content
    assert response.context["authority"]["month_remaining"] == D("750.00")  # default 1,000 a month


@pytest.mark.parametrize("rows", [1, 50])
def test_allowance_query_count_does_not_grow_with_items(rep_client, rows, django_assert_num_queries):
    factories.ServiceItemFactory.create_batch(rows)
    # session, user, authority row, month usage, items (the grant count is annotated, not
    # queried per item), unread badge.
    with django_assert_num_queries(6):
        assert rep_client.get(reverse("service_catalog:allowance")).status_code == 200


# --- catalog (admins) ------------------------------------------------------------------------


def test_catalog_pages_are_404_for_a_rep(rep_client):
    item = factories.ServiceItemFactory()
    assert rep_client.get(reverse("service_catalog:item-list")).status_code == 404
    assert rep_client.get(reverse("service_catalog:item-create")).status_code == 404
    assert rep_client.post(reverse("service_catalog:item-deactivate", args=[item.pk])).status_code == 404
    assert rep_client.get(reverse("service_catalog:authority-list")).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_catalog_list_query_count_does_not_grow_with_items(admin_client, rows, django_assert_num_queries):
    for item in factories.ServiceItemFactory.create_batch(rows):
        factories.GrantFactory(item=item)
    # session, user, items with their grant counts in one query (not one count per item),
    # unread badge.
    with django_assert_num_queries(4):
        assert admin_client.get(reverse("service_catalog:item-list")).status_code == 200


def test_admin_adds_and_edits_an_item(admin_client):
    data = {"name": "Lunch", "category": "hospitality", "unit_cost": "60.00", "max_quantity": "6", "active": "on"}
    response = admin_client.post(reverse("service_catalog:item-create"), data)
    assert response.status_code == 302
    item = ServiceItem.objects.get()
    response = admin_client.post(reverse("service_catalog:item-update", args=[item.pk]), {**data, "unit_cost": "65"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.unit_cost == D("65.00")
    page = admin_client.get(reverse("service_catalog:item-update", args=[item.pk]))
    assert b"Change history" in page.content
    assert b"65.00" in page.content


def test_item_form_shows_errors(admin_client):
    factories.ServiceItemFactory(name="Lunch")
    response = admin_client.post(
        reverse("service_catalog:item-create"), {"name": "lunch", "category": "gift", "unit_cost": "-1"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["unit_cost"]
    response = admin_client.post(
        reverse("service_catalog:item-create"), {"name": "lunch", "category": "gift", "unit_cost": "1"}
    )
    assert "already has an item" in response.context["form"].errors["name"][0]
    assert ServiceItem.objects.count() == 1


def test_admin_deactivates_an_item_by_post_only(admin_client):
    item = factories.ServiceItemFactory()
    url = reverse("service_catalog:item-deactivate", args=[item.pk])
    assert admin_client.get(url).status_code == 405
    assert admin_client.post(url).status_code == 302
    item.refresh_from_db()
    assert item.active is False


def test_admin_sets_a_users_authority(admin_client, rep):
    response = admin_client.get(reverse("service_catalog:authority-update"), {"role": "rep"})
    assert response.context["form"].initial["per_grant"] == D("300.00")
    response = admin_client.post(reverse("service_catalog:authority-update"), {"user": rep.pk, "per_grant": "500"})
    assert response.status_code == 302
    assert Authority.objects.get(user=rep).per_grant == D("500.00")
    assert b"500.00" in admin_client.get(reverse("service_catalog:authority-list")).content


def test_authority_form_shows_the_services_refusal(admin_client, rep):
    response = admin_client.post(reverse("service_catalog:authority-update"), {"role": "rep", "user": rep.pk})
    assert response.status_code == 200
    assert "either a role or a user" in str(response.context["form"].non_field_errors())


# --- granting --------------------------------------------------------------------------------


def grant_data(item, account, recipient, quantity="1"):
    return {
        "item": item.pk,
        "quantity": quantity,
        "account": account.pk,
        "recipient": recipient.pk,
        "reason": "relationship",
    }


def test_grant_under_the_limit_is_approved_and_shown(rep_client, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=D("60.00"))
    form = rep_client.get(reverse("service_catalog:grant-create"), {"account": account.pk, "item": item.pk})
    assert b"Lena Novak \xe2\x80\x94 Acme Tools" in form.content
    response = rep_client.post(reverse("service_catalog:grant-create"), grant_data(item, account, recipient, "2"))
    grant = Grant.objects.get()
    assert response.url == grant.get_absolute_url()
    assert grant.status == Grant.Status.APPROVED
    page = rep_client.get(response.url)
    assert b"Approved" in page.content
    assert b"120.00" in page.content


def test_grant_over_the_limit_shows_which_limit_and_by_how_much(rep_client, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=D("350.00"))
    response = rep_client.post(
        reverse("service_catalog:grant-create"), grant_data(item, account, recipient), follow=True
    )
    assert b"Pending approval" in response.content
    assert b"over by <strong>50.00 EUR</strong>" in response.content
    assert b"Cancel this request" in response.content


def test_grant_form_shows_a_field_error(rep_client, account, recipient):
    item = factories.ServiceItemFactory()
    response = rep_client.post(reverse("service_catalog:grant-create"), grant_data(item, account, recipient, "1.5"))
    assert response.status_code == 200
    assert response.context["form"].errors["quantity"]
    assert not Grant.objects.exists()


def test_grant_form_shows_the_services_refusal(rep_client, rep, account):
    former = factories.EmploymentFactory(
        account=account, start_date=datetime.date(2019, 1, 1), end_date=datetime.date(2020, 1, 1)
    ).contact
    factories.EmploymentFactory(contact=former, account=factories.AccountFactory(owner=rep))
    item = factories.ServiceItemFactory()
    response = rep_client.post(reverse("service_catalog:grant-create"), grant_data(item, account, former))
    # Only the account's current people are offered: he is refused as a choice before the service.
    assert "Select a valid choice" in response.context["form"].errors["recipient"][0]


def test_grant_form_lists_the_chosen_accounts_people_and_deals_only(rep_client, rep, account, recipient):
    elsewhere = factories.AccountFactory(owner=rep)
    stranger = factories.person_at(elsewhere)
    here_deal = factories.OpportunityFactory(account=account)
    factories.OpportunityFactory(account=elsewhere)
    url = reverse("service_catalog:grant-create")
    every = rep_client.get(url).context["form"]
    assert {recipient, stranger} <= set(every.fields["recipient"].queryset)
    form = rep_client.get(url, {"account": account.pk}).context["form"]
    assert list(form.fields["recipient"].queryset) == [recipient]
    assert list(form.fields["opportunity"].queryset) == [here_deal]
    assert b'hx-select-oob="#id_opportunity"' in rep_client.get(url).content


def test_grant_preview_names_the_limits_and_the_approver_before_anything_is_granted(
    rep_client, rep, account, recipient
):
    item = factories.ServiceItemFactory(unit_cost=D("350.00"))
    preview = rep_client.get(reverse("service_catalog:grant-preview"), grant_data(item, account, recipient))
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "needs approval" in text and "50.00 EUR over" in text
    assert f"{rep.manager} (your manager) will decide" in text
    # Within the limits it says so; half filled, it says what it waits for.
    small = factories.ServiceItemFactory(unit_cost=D("10.00"))
    assert (
        b"approved at once"
        in rep_client.get(reverse("service_catalog:grant-preview"), grant_data(small, account, recipient)).content
    )
    assert b"Choose the item" in rep_client.get(reverse("service_catalog:grant-preview"), {"item": item.pk}).content
    # Without JavaScript, "Check approval" shows the same and grants nothing.
    response = rep_client.post(
        reverse("service_catalog:grant-create"), {**grant_data(item, account, recipient), "preview": "1"}
    )
    assert b"(your manager) will decide" in response.content
    assert not Grant.objects.exists()
    assert rep_client.post(reverse("service_catalog:grant-preview")).status_code == 405


def test_granting_outside_the_reps_scope_is_404(rep_client, rep, other_rep, account, recipient):
    item = factories.ServiceItemFactory()
    theirs = factories.AccountFactory(owner=other_rep)
    their_person = factories.person_at(theirs)
    url = reverse("service_catalog:grant-create")
    assert rep_client.post(url, grant_data(item, theirs, their_person)).status_code == 404
    assert rep_client.post(url, grant_data(item, account, their_person)).status_code == 404
    assert rep_client.get(url, {"account": theirs.pk}).status_code == 404
    assert not Grant.objects.exists()


def test_grant_create_refuses_other_methods(rep_client):
    assert rep_client.put(reverse("service_catalog:grant-create")).status_code == 405


def test_grant_detail_of_another_reps_grant_is_404(rep_client, other_rep):
    grant = factories.GrantFactory(account=factories.AccountFactory(owner=other_rep))
    assert rep_client.get(reverse("service_catalog:grant-detail", args=[grant.pk])).status_code == 404
    assert rep_client.post(reverse("service_catalog:grant-cancel", args=[grant.pk])).status_code == 404


def test_rep_cancels_his_pending_grant(rep_client, rep, account, recipient):
    grant = pending_grant(rep, account, recipient)
    url = reverse("service_catalog:grant-cancel", args=[grant.pk])
    assert rep_client.get(url).status_code == 405
    assert rep_client.post(url).status_code == 302
    grant.refresh_from_db()
    assert grant.status == Grant.Status.CANCELLED


# --- approvals -------------------------------------------------------------------------------


def test_manager_approves_with_htmx_and_gets_the_row_back(manager_client, rep, account, recipient):
    grant = pending_grant(rep, account, recipient)
    response = manager_client.post(
        reverse("service_catalog:grant-approve", args=[grant.pk]), {"note": "ok"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="grant-{grant.pk}"'.encode() in response.content
    assert b"Approved" in response.content
    assert b"hx-post" not in response.content
    grant.refresh_from_db()
    assert grant.status == Grant.Status.APPROVED


def test_manager_rejects_without_a_note_and_sees_why_in_the_row(manager_client, rep, account, recipient):
    grant = pending_grant(rep, account, recipient)
    response = manager_client.post(
        reverse("service_catalog:grant-reject", args=[grant.pk]), {"note": ""}, HTTP_HX_REQUEST="true"
    )
    assert b"Say why the grant is rejected" in response.content
    assert b"hx-post" in response.content
    grant.refresh_from_db()
    assert grant.is_pending


def test_manager_decides_without_htmx_and_is_redirected(manager_client, rep, account, recipient):
    grant = pending_grant(rep, account, recipient)
    response = manager_client.post(reverse("service_catalog:grant-reject", args=[grant.pk]), {"note": "Not now"})
    assert response.url == grant.get_absolute_url()
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REJECTED


def test_another_manager_cannot_see_or_decide_the_grant(client, rep, account, recipient):
    grant = pending_grant(rep, account, recipient)
    client.force_login(factories.ManagerFactory())
    assert client.post(reverse("service_catalog:grant-approve", args=[grant.pk])).status_code == 404
    assert grant.pk not in [g.pk for g in client.get(reverse("service_catalog:approval-list")).context["page"]]


def test_approve_refuses_get(manager_client, rep, account, recipient):
    grant = pending_grant(rep, account, recipient)
    assert manager_client.get(reverse("service_catalog:grant-approve", args=[grant.pk])).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_approval_list_query_count_does_not_grow_with_rows(manager_client, rep, rows, django_assert_num_queries):
    for _ in range(rows):
        account = factories.AccountFactory(owner=rep)
        factories.GrantFactory(account=account, status="pending", approver=rep.manager)
    # session, user, count, the page with item/account/recipient/rep joined (each is shown
    # per row: without select_related that is four queries a row), unread badge.
    with django_assert_num_queries(5):
        response = manager_client.get(reverse("service_catalog:approval-list"))
    assert len(response.context["page"]) == min(rows, 25)


# --- ledgers ---------------------------------------------------------------------------------


def test_account_ledger_lists_rows_and_adds_them_up(rep_client, rep, account, recipient):
    factories.GrantFactory(account=account, recipient=recipient, item__unit_cost=D("100.00"))
    factories.GrantFactory(account=account, recipient=recipient, item__unit_cost=D("20.50"))
    factories.GrantFactory(account=account, recipient=recipient, item__unit_cost=D("70.00"), status="pending")
    factories.GrantFactory(account=account, recipient=recipient, item__unit_cost=D("999.00"), status="rejected")
    factories.GrantFactory(account=factories.AccountFactory(owner=rep), item__unit_cost=D("5.00"))
    response = rep_client.get(reverse("service_catalog:grant-list"), {"account": account.pk})
    assert response.context["subject"] == "Acme Tools"
    assert response.context["totals"]["approved"] == D("120.50")
    assert response.context["totals"]["pending"] == D("70.00")
    assert len(response.context["page"]) == 4


def test_ledger_of_an_invisible_account_is_404(rep_client, other_rep):
    theirs = factories.AccountFactory(owner=other_rep)
    assert rep_client.get(reverse("service_catalog:grant-list"), {"account": theirs.pk}).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_grant_list_query_count_does_not_grow_with_rows(rep_client, rep, rows, django_assert_num_queries):
    account = factories.AccountFactory(owner=rep)
    for _ in range(rows):
        factories.GrantFactory(account=account, rep=rep)
    # session, user, the visible accounts (once, for the totals and the page), totals (with
    # the row count the pages need), the page with item/account/recipient/rep joined (without
    # select_related each row would query all four), unread badge.
    with django_assert_num_queries(6):
        response = rep_client.get(reverse("service_catalog:grant-list"))
    assert response.context["page"].paginator.count == rows
    assert len(response.context["page"].object_list) == min(rows, 25)


@pytest.mark.parametrize("group", ["account", "recipient", "rep"])
@pytest.mark.parametrize("rows", [1, 50])
def test_ledger_summary_query_count_does_not_grow_with_rows(
    manager_client, rep, group, rows, django_assert_num_queries
):
    for _ in range(rows):
        factories.GrantFactory(account=factories.AccountFactory(owner=rep))
    # session, user, the page of grouped totals (names come from the same GROUP BY, not a query
    # per row) bringing the whole ledger's totals and its number of groups along as window
    # aggregates (so neither the totals nor the pager need a query of their own), the recipient
    # cap for the "nearing" flag on the recipient tab, unread badge.
    with django_assert_num_queries(5 if group == "recipient" else 4):
        response = manager_client.get(reverse("service_catalog:ledger"), {"group": group})
    page = response.context["page"]
    assert page.paginator.count == (1 if group == "rep" else rows)
    assert len(page) == (1 if group == "rep" else min(rows, 25))


def _ledger(client, **params):
    response = client.get(reverse("service_catalog:ledger"), params)
    assert response.status_code == 200
    return response


def test_ledger_pages_the_groups_largest_first_with_totals_of_them_all(manager_client, rep):
    accounts = [factories.AccountFactory(owner=rep, name=f"Account {i:02d}") for i in range(30)]
    for index, account in enumerate(accounts):
        factories.GrantFactory(account=account, item__unit_cost=D(100 + index))
    factories.GrantFactory(account=accounts[0], item__unit_cost=D("50.00"), status="pending")
    factories.GrantFactory(account=accounts[1], item__unit_cost=D("999.00"), status="rejected")
    factories.GrantFactory(account=accounts[2], item__unit_cost=D("999.00"), status="cancelled")

    first = _ledger(manager_client, group="account")
    second = _ledger(manager_client, group="account", page=2)

    assert first.context["page"].paginator.count == 30
    assert [row["name"] for row in first.context["page"]] == [f"Account {i:02d}" for i in range(29, 4, -1)]
    assert [row["name"] for row in second.context["page"]] == [f"Account {i:02d}" for i in range(4, -1, -1)]
    smallest = second.context["page"][4]
    assert (smallest["group_id"], smallest["approved"], smallest["pending"], smallest["count"]) == (
        accounts[0].pk,
        D("100.00"),
        D("50.00"),
        2,
    )
    # The totals are the whole ledger's, the same on every page; rejected and cancelled do not count.
    for response in (first, second):
        totals = response.context["totals"]
        assert (totals["approved"], totals["approved_count"]) == (sum(D(100 + i) for i in range(30)), 30)
        assert (totals["pending"], totals["pending_count"]) == (D("50.00"), 1)
    assert b"Page 2 of 2" in second.content
    assert f'href="/catalog/grants/?account={accounts[0].pk}&year='.encode() in second.content


def test_ledger_leaves_out_another_teams_grants_from_rows_and_totals(manager_client, rep, other_rep):
    mine = factories.AccountFactory(owner=rep, name="Mine")
    theirs = factories.AccountFactory(owner=other_rep, name="Theirs")
    factories.GrantFactory(account=mine, item__unit_cost=D("10.00"))
    factories.GrantFactory(account=theirs, item__unit_cost=D("500.00"))
    factories.GrantFactory(account=theirs, item__unit_cost=D("70.00"), status="pending")
    for group in ("account", "recipient", "rep"):
        response = _ledger(manager_client, group=group)
        assert len(response.context["page"]) == 1, group
        assert response.context["totals"]["approved"] == D("10.00")
        assert response.context["totals"]["pending"] == D("0.00")
        assert b"Theirs" not in response.content


def test_ledger_groups_by_rep_and_names_him(manager_client, manager, rep):
    nameless = factories.RepFactory(manager=manager, username="nameless", first_name="", last_name="")
    factories.GrantFactory(account=factories.AccountFactory(owner=rep), item__unit_cost=D("30.00"))
    factories.GrantFactory(account=factories.AccountFactory(owner=rep), item__unit_cost=D("20.00"))
    factories.GrantFactory(account=factories.AccountFactory(owner=nameless), item__unit_cost=D("40.00"))
    rows = list(_ledger(manager_client, group="rep").context["page"])
    # Largest first; a rep with no name on file goes by his user name.
    assert [(row["name"], row["approved"], row["count"]) for row in rows] == [
        (f"{rep.first_name} {rep.last_name}", D("50.00"), 2),
        ("nameless", D("40.00"), 1),
    ]


def test_ledger_counts_only_the_chosen_year(manager_client, rep):
    account = factories.AccountFactory(owner=rep)
    this_year = factories.GrantFactory(account=account, item__unit_cost=D("10.00"))
    last_year = factories.GrantFactory(account=account, item__unit_cost=D("20.00"))
    year = timezone.localdate().year
    Grant.objects.filter(pk=last_year.pk).update(
        created_at=this_year.created_at.replace(year=year - 1, month=6, day=15)
    )
    assert _ledger(manager_client, year=year).context["totals"]["approved"] == D("10.00")
    assert _ledger(manager_client, year=year - 1).context["totals"]["approved"] == D("20.00")
    # A year no calendar has is the current one, not a server error.
    assert _ledger(manager_client, year=0).context["year"] == year
    assert _ledger(manager_client, year="soon").context["year"] == year


def test_ledger_flags_recipients_nearing_their_yearly_cap(rep_client, account, recipient):
    other = factories.person_at(account, contact__first_name="Far", contact__last_name="Below")
    factories.GrantFactory(account=account, recipient=recipient, item__unit_cost=D("400.00"))  # 80% of 500
    factories.GrantFactory(account=account, recipient=other, item__unit_cost=D("399.99"))
    response = rep_client.get(reverse("service_catalog:ledger"), {"group": "recipient"})
    flagged = {row["name"]: row["nearing_cap"] for row in response.context["page"]}
    assert flagged == {"Lena Novak": True, "Far Below": False}
    assert response.content.count(b'data-testid="nearing-cap"') == 1


def test_grant_form_links_a_deal_from_the_opportunity_page(client, stages):
    rep = factories.RepFactory()
    client.force_login(rep)
    account = factories.AccountFactory(owner=rep)
    recipient = factories.person_at(account)
    deal = factories.OpportunityFactory(account=account, owner=rep)
    item = factories.ServiceItemFactory(unit_cost=Decimal("10"))
    page = client.get(reverse("service_catalog:grant-create"), {"account": account.pk, "opportunity": deal.pk})
    assert page.context["form"].initial["opportunity"] == str(deal.pk)
    response = client.post(
        reverse("service_catalog:grant-create"),
        {"item": item.pk, "quantity": 1, "account": account.pk, "recipient": recipient.pk, "opportunity": deal.pk,
         "reason": "relationship"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Grant.objects.get().opportunity == deal


def test_grant_form_refuses_another_reps_deal(client, stages):
    rep = factories.RepFactory()
    client.force_login(rep)
    account = factories.AccountFactory(owner=rep)
    recipient = factories.person_at(account)
    foreign = factories.OpportunityFactory()
    item = factories.ServiceItemFactory(unit_cost=Decimal("10"))
    response = client.post(
        reverse("service_catalog:grant-create"),
        {"item": item.pk, "quantity": 1, "account": account.pk, "recipient": recipient.pk, "opportunity": foreign.pk,
         "reason": "relationship"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "opportunity" in response.context["form"].errors
    assert not Grant.objects.exists()


def test_grant_export_has_the_ledger_filters(rep_client, rep, account):
    factories.GrantFactory(account=account, details="@SUM(1)")
    factories.GrantFactory(account=account, status="pending", details="waiting")
    response = rep_client.get(reverse("service_catalog:grant-export"), {"status": "approved"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffcreated_at,item,")
    assert "'@SUM(1)" in body
    assert "waiting" not in body
    assert rep_client.post(reverse("service_catalog:grant-export")).status_code == 405
