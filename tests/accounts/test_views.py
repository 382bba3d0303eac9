import datetime

import pytest
from django.urls import reverse

import access
from accounts.models import Account, Contact
from tests import factories


@pytest.fixture
def lookups(db):
    return {"region": factories.RegionFactory(), "industry": factories.IndustryFactory()}


def test_account_list_shows_only_the_reps_accounts(rep_client, rep, other_rep):
    factories.AccountFactory(owner=rep, name="Mine Ltd")
    factories.AccountFactory(owner=other_rep, name="Theirs Ltd")
    response = rep_client.get(reverse("accounts:account-list"))
    assert response.status_code == 200
    assert b"Mine Ltd" in response.content
    assert b"Theirs Ltd" not in response.content


def test_account_list_filters_by_search_and_region(rep_client, rep):
    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    factories.AccountFactory(owner=rep, name="Acme North", region=north)
    factories.AccountFactory(owner=rep, name="Acme East", region=east)
    factories.AccountFactory(owner=rep, name="Borealis", region=north)
    response = rep_client.get(reverse("accounts:account-list"), {"q": "acme", "region": north.pk})
    assert [a.name for a in response.context["page"]] == ["Acme North"]


@pytest.mark.parametrize("rows", [1, 50])
def test_account_list_query_count_does_not_grow_with_rows(rep_client, rep, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.AccountFactory(owner=rep)
    # session, user, the visible accounts (once, for the count and the page), count, the
    # region and industry filter choices, one query for the page of accounts with
    # region/industry/owner joined and the people count as a subquery (an N+1 on owner or
    # people would add a query per row), the unread badge.
    with django_assert_num_queries(8):
        response = rep_client.get(reverse("accounts:account-list"))
    assert response.status_code == 200


def test_account_detail_of_another_reps_account_is_404(rep_client, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    assert rep_client.get(reverse("accounts:account-detail", args=[account.pk])).status_code == 404
    assert rep_client.get(reverse("accounts:account-update", args=[account.pk])).status_code == 404


def test_account_detail_shows_current_and_former_people_and_history(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    factories.EmploymentFactory(account=account, contact__first_name="Current")
    factories.EmploymentFactory(account=account, contact__first_name="Formerly", end_date=datetime.date.today())
    response = rep_client.get(reverse("accounts:account-detail", args=[account.pk]))
    assert [p.contact.first_name for p in response.context["people"]["current"]] == ["Current"]
    assert [p.contact.first_name for p in response.context["people"]["former"]] == ["Formerly"]
    assert b"Change history" in response.content


def test_account_create_page_creates_and_redirects(rep_client, rep, lookups):
    response = rep_client.post(
        reverse("accounts:account-create"),
        {"name": "Acme", "region": lookups["region"].pk, "industry": lookups["industry"].pk, "size_tier": "key"},
    )
    account = Account.objects.get()
    assert response.status_code == 302
    assert response.url == account.get_absolute_url()
    assert account.owner == rep


def test_account_create_page_shows_field_errors(rep_client, lookups):
    response = rep_client.post(reverse("accounts:account-create"), {"name": "", "size_tier": "key"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not Account.objects.exists()


def test_account_create_page_links_to_the_duplicate(rep_client, rep, lookups):
    existing = factories.AccountFactory(owner=rep, name="Acme Ltd")
    response = rep_client.post(
        reverse("accounts:account-create"),
        {"name": "ACME", "region": lookups["region"].pk, "industry": lookups["industry"].pk, "size_tier": "key"},
    )
    assert response.status_code == 200
    assert existing.get_absolute_url().encode() in response.content
    assert Account.objects.count() == 1


def test_account_update_page_saves_changes(rep_client, rep, lookups):
    account = factories.AccountFactory(owner=rep, **lookups)
    response = rep_client.post(
        reverse("accounts:account-update", args=[account.pk]),
        {"name": "Renamed", "region": lookups["region"].pk, "industry": lookups["industry"].pk, "size_tier": "small"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.size_tier) == ("Renamed", "small")


def test_manager_can_assign_an_account_to_a_rep(manager_client, rep, lookups):
    manager_client.post(
        reverse("accounts:account-create"),
        {
            "name": "Acme",
            "region": lookups["region"].pk,
            "industry": lookups["industry"].pk,
            "size_tier": "key",
            "owner": rep.pk,
        },
    )
    assert Account.objects.get().owner == rep


def test_contact_list_shows_current_position(rep_client, rep):
    account = factories.AccountFactory(owner=rep, name="Acme")
    factories.EmploymentFactory(account=account, contact__last_name="Zed", title="CFO")
    response = rep_client.get(reverse("accounts:contact-list"))
    assert b"Zed" in response.content
    assert b"CFO" in response.content


@pytest.mark.parametrize("rows", [1, 50])
def test_contact_list_query_count_does_not_grow_with_rows(rep_client, rep, rows, django_assert_num_queries):
    account = factories.AccountFactory(owner=rep)
    for _ in range(rows):
        factories.EmploymentFactory(account=account)
    # session, user, the visible accounts (once), count, page of contacts, one prefetch of
    # current positions with their accounts (without the prefetch every row would query its
    # position and account), and the unread badge.
    with django_assert_num_queries(7):
        response = rep_client.get(reverse("accounts:contact-list"))
    assert response.status_code == 200


def test_contact_detail_of_an_invisible_contact_is_404(rep_client, other_rep):
    contact = factories.person_at(factories.AccountFactory(owner=other_rep))
    assert rep_client.get(reverse("accounts:contact-detail", args=[contact.pk])).status_code == 404
    assert rep_client.get(reverse("accounts:employment-create", args=[contact.pk])).status_code == 404


def test_contact_create_page_creates_the_person_with_a_position(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    response = rep_client.post(
        reverse("accounts:contact-create"),
        {
            "first_name": "Chen",
            "last_name": "Li",
            "email": "chen@example.com",
            "account": account.pk,
            "title": "CFO",
            "function": "finance",
            "seniority": "c_level",
            "start_date": "2024-01-01",
        },
    )
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert contact.employments.get().account == account


def test_contact_create_page_refuses_an_account_out_of_scope(rep_client, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    response = rep_client.post(
        reverse("accounts:contact-create"),
        {"first_name": "C", "last_name": "L", "account": account.pk, "title": "CFO", "function": "finance",
         "seniority": "c_level", "start_date": "2024-01-01"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "account" in response.context["form"].errors
    assert not Contact.objects.exists()


def test_contact_create_prefilled_from_an_invisible_account_is_404(rep_client, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    assert rep_client.get(reverse("accounts:contact-create"), {"account": account.pk}).status_code == 404


def test_employment_end_requires_post(rep_client, rep):
    position = factories.EmploymentFactory(account=factories.AccountFactory(owner=rep))
    assert rep_client.get(reverse("accounts:employment-end", args=[position.pk])).status_code == 405


def test_employment_end_page_ends_the_position(rep_client, rep):
    position = factories.EmploymentFactory(account=factories.AccountFactory(owner=rep))
    response = rep_client.post(
        reverse("accounts:employment-end", args=[position.pk]), {"end_date": datetime.date.today().isoformat()}
    )
    assert response.status_code == 302
    position.refresh_from_db()
    assert position.end_date == datetime.date.today()


def test_employment_end_of_an_invisible_position_is_404(rep_client, other_rep):
    position = factories.EmploymentFactory(account=factories.AccountFactory(owner=other_rep))
    response = rep_client.post(reverse("accounts:employment-end", args=[position.pk]), {"end_date": "2025-01-01"})
    assert response.status_code == 404
    position.refresh_from_db()
    assert position.end_date is None


def test_employment_add_page_shows_the_service_refusal(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    position = factories.EmploymentFactory(account=account)
    response = rep_client.post(
        reverse("accounts:employment-create", args=[position.contact.pk]),
        {"account": account.pk, "title": "CEO", "function": "executive", "seniority": "c_level",
         "start_date": "2025-01-01"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "already has a current position" in str(response.context["form"].non_field_errors())


# --- CSV export -----------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_account_export_applies_the_page_filters_and_scope(rep_client, rep, other_rep):
    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    factories.AccountFactory(owner=rep, name="Acme North", region=north)
    factories.AccountFactory(owner=rep, name="Acme East", region=east)
    factories.AccountFactory(owner=other_rep, name="Acme Theirs", region=north)
    response = rep_client.get(reverse("accounts:account-export"), {"q": "acme", "region": north.pk})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(response)
    assert rows[0][:3] == ["name", "region", "industry"]
    assert [r[0] for r in rows[1:]] == ["Acme North"]


def test_export_neutralises_spreadsheet_formulas(rep_client, rep):
    factories.AccountFactory(owner=rep, name="=HYPERLINK(1)", notes="+cmd")
    factories.AccountFactory(owner=rep, name="@SUM", notes="-2")
    factories.AccountFactory(owner=rep, name="\tTab", notes="\rCR")
    rows = _csv_rows(rep_client.get(reverse("accounts:account-export")))
    cells = {(r[0], r[6]) for r in rows[1:]}
    assert cells == {("'=HYPERLINK(1)", "'+cmd"), ("'@SUM", "'-2"), ("'\tTab", "'\rCR")}


def test_contact_export_has_the_import_columns_and_current_position(rep_client, rep, other_rep):
    account = factories.AccountFactory(owner=rep, name="Acme")
    factories.person_at(account, contact__email="ada@x.example", title="CTO")
    factories.person_at(factories.AccountFactory(owner=other_rep))
    rows = _csv_rows(rep_client.get(reverse("accounts:contact-export")))
    assert rows[0] == [
        "email", "first_name", "last_name", "phone", "account", "title", "function", "seniority", "start_date", "notes",
    ]  # fmt: skip
    assert len(rows) == 2
    assert (rows[1][0], rows[1][4], rows[1][5]) == ("ada@x.example", "Acme", "CTO")


@pytest.mark.parametrize("rows", [1, 50])
def test_contact_export_query_count_does_not_grow_with_rows(rep_client, rep, rows, django_assert_num_queries):
    account = factories.AccountFactory(owner=rep)
    for _ in range(rows):
        factories.person_at(account)
    # session, user, the visible accounts, contacts, their current positions with accounts in
    # one prefetch: a query per contact for his position would be the N+1.
    with django_assert_num_queries(5):
        response = rep_client.get(reverse("accounts:contact-export"))
        assert len(_csv_rows(response)) == rows + 1


@pytest.mark.parametrize("rows", [1, 50])
def test_account_export_query_count_does_not_grow_with_rows(rep_client, rep, rows, django_assert_num_queries):
    for _ in range(rows):
        factories.AccountFactory(owner=rep).product_lines.add(factories.ProductLineFactory())
    # session, user, the visible accounts, accounts with owner/region/industry joined and people
    # counted in a subquery, one prefetch of product lines: per-row owner or product-line
    # queries are the N+1.
    with django_assert_num_queries(5):
        response = rep_client.get(reverse("accounts:account-export"))
        assert len(_csv_rows(response)) == rows + 1


# --- record a move ----------------------------------------------------------------------------


def test_contact_move_page_records_the_move(rep_client, rep):
    account = factories.AccountFactory(owner=rep, name="Old Works")
    contact = factories.person_at(account)
    url = reverse("accounts:contact-move", args=[contact.pk])
    assert rep_client.get(url).status_code == 200
    assert url.encode() in rep_client.get(contact.get_absolute_url()).content  # the "Record a move" button
    start = datetime.date.today().isoformat()
    response = rep_client.post(
        url,
        {
            "new_account_name": "Blue Harbour",
            "title": "CIO",
            "function": "it",
            "seniority": "c_level",
            "start_date": start,
        },
    )
    assert response.status_code == 302 and response.url == contact.get_absolute_url()
    assert contact.employments.get(end_date__isnull=True).account.name == "Blue Harbour"


def test_contact_move_page_shows_the_services_refusal_on_the_form(rep_client, rep):
    contact = factories.person_at(factories.AccountFactory(owner=rep))
    start = contact.employments.get().start_date.isoformat()
    response = rep_client.post(
        reverse("accounts:contact-move", args=[contact.pk]),
        {
            "new_account_name": "Blue Harbour",
            "title": "CIO",
            "function": "it",
            "seniority": "staff",
            "start_date": start,
        },
    )
    assert response.status_code == 200
    assert "must start after the current one began" in response.context["form"].errors["start_date"][0]
    assert contact.employments.count() == 1


def test_contact_move_page_is_404_for_a_person_out_of_scope(rep_client):
    stranger = factories.person_at(factories.AccountFactory())
    assert rep_client.get(reverse("accounts:contact-move", args=[stranger.pk])).status_code == 404


def test_contact_move_page_refuses_delete(rep_client, rep):
    contact = factories.person_at(factories.AccountFactory(owner=rep))
    assert rep_client.delete(reverse("accounts:contact-move", args=[contact.pk])).status_code == 405


# --- routing and reassignment ---------------------------------------------------------------


def test_account_create_page_routes_to_the_territory_and_explains(rep_client, rep, lookups):
    member = factories.RepFactory(first_name="Tess", last_name="Member")
    factories.TerritoryFactory(name="North", region=lookups["region"], members=[member, rep])
    response = rep_client.post(
        reverse("accounts:account-create"),
        {"name": "Routed Ltd", "region": lookups["region"].pk, "industry": lookups["industry"].pk, "size_tier": "mid"},
        follow=True,
    )
    account = Account.objects.get(name="Routed Ltd")
    assert account.owner == (member if member.pk < rep.pk else rep)
    # The rep is a member, so the territory lets him see it: the page explains itself.
    assert response.context["account"] == account
    assert b"Why is this mine?" in response.content
    assert b"Owner via territory North, rule 1, round-robin among 2 members." in response.content


def test_account_create_page_routed_out_of_sight_says_where_it_went(rep_client, rep, lookups):
    member = factories.RepFactory(first_name="Tess", last_name="Member")
    factories.TerritoryFactory(name="North", region=lookups["region"], members=[member])
    response = rep_client.post(
        reverse("accounts:account-create"),
        {"name": "Away Ltd", "region": lookups["region"].pk, "industry": lookups["industry"].pk, "size_tier": "mid"},
        follow=True,
    )
    assert Account.objects.get(name="Away Ltd").owner == member
    assert response.request["PATH_INFO"] == reverse("accounts:account-list")
    assert b"routed to Tess Member" in response.content


def test_admin_site_add_routes_when_no_owner_is_given(client, admin_user, lookups):
    client.force_login(admin_user)
    line = factories.ProductLineFactory(name="Cloud")
    member = factories.RepFactory()
    factories.TerritoryFactory(name="Cloud", product_line=line, members=[member])
    response = client.post(
        reverse("admin:accounts_account_add"),
        {
            "name": "Admin Made",
            "region": lookups["region"].pk,
            "industry": lookups["industry"].pk,
            "size_tier": "mid",
            "product_lines": [line.pk],
            "owner": "",
            "notes": "",
        },
    )
    assert response.status_code == 302
    account = Account.objects.get(name="Admin Made")
    assert (account.owner, account.territory.name) == (member, "Cloud")
    assert list(account.product_lines.all()) == [line]


def test_admin_change_of_product_lines_moves_the_territory_coverage(client, admin_user, lookups):
    client.force_login(admin_user)
    line = factories.ProductLineFactory(name="Cloud")
    member = factories.RepFactory()
    territory = factories.TerritoryFactory(name="Cloud", product_line=line, members=[member])
    account = factories.AccountFactory(region=lookups["region"], industry=lookups["industry"])
    assert account not in access.accounts(member)
    response = client.post(
        reverse("admin:accounts_account_change", args=[account.pk]),
        {
            "name": account.name,
            "region": lookups["region"].pk,
            "industry": lookups["industry"].pk,
            "size_tier": "mid",
            "product_lines": [line.pk],
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert account in access.accounts(member)
    assert list(territory.coverage.values_list("account_id", flat=True)) == [account.pk]


def test_account_reassign_page_moves_the_account(manager_client, manager, rep):
    colleague = factories.RepFactory(manager=manager)
    account = factories.AccountFactory(owner=rep)
    factories.TerritoryFactory(members=[colleague])
    url = reverse("accounts:account-reassign", args=[account.pk])
    response = manager_client.get(url)
    assert response.context["form"].initial["owner"] == colleague  # the territory's suggestion
    response = manager_client.post(url, {"owner": colleague.pk, "reason": "Territory rules"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == colleague


def test_account_reassign_page_shows_the_service_error(manager_client, rep):
    account = factories.AccountFactory(owner=rep)
    response = manager_client.post(
        reverse("accounts:account-reassign", args=[account.pk]), {"owner": rep.pk, "reason": "Same"}
    )
    assert response.status_code == 200
    assert "already owns" in response.context["form"].errors["owner"][0]


def test_account_reassign_page_is_404_out_of_scope_and_for_reps(client_for, manager, rep, other_rep):
    theirs = factories.AccountFactory(owner=other_rep)
    mine = factories.AccountFactory(owner=rep)
    manager_client, rep_client = client_for(manager), client_for(rep)
    assert manager_client.get(reverse("accounts:account-reassign", args=[mine.pk])).status_code == 200  # his rep's
    assert manager_client.get(reverse("accounts:account-reassign", args=[theirs.pk])).status_code == 404
    assert rep_client.get(reverse("accounts:account-reassign", args=[mine.pk])).status_code == 404


def test_account_reassign_page_wrong_method_is_405(manager_client, rep):
    account = factories.AccountFactory(owner=rep)
    assert manager_client.put(reverse("accounts:account-reassign", args=[account.pk])).status_code == 405


def test_account_edit_page_changes_the_owner_only_with_a_reason(manager_client, manager, rep, lookups):
    other = factories.RepFactory(manager=manager)
    account = factories.AccountFactory(owner=rep, **lookups)
    data = {"name": account.name, "region": lookups["region"].pk, "industry": lookups["industry"].pk,
            "size_tier": "mid", "owner": other.pk}  # fmt: skip
    response = manager_client.post(reverse("accounts:account-update", args=[account.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    account.refresh_from_db()
    assert account.owner == rep
    response = manager_client.post(
        reverse("accounts:account-update", args=[account.pk]), {**data, "reason": "Territory change"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == other
