import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, Employment
from tests import factories


@pytest.fixture
def lookups(db):
    return {"region": factories.RegionFactory(name="North"), "industry": factories.IndustryFactory(name="Retail")}


def test_account_list_is_paginated_and_scoped_to_the_rep(token_client, rep, other_rep):
    mine = factories.AccountFactory(owner=rep, name="Mine Ltd")
    factories.AccountFactory(owner=other_rep, name="Theirs Ltd")
    response = token_client(rep).get(reverse("api:account-list"))
    assert response.status_code == 200
    assert response.json()["count"] == 1
    row = response.json()["results"][0]
    assert row["id"] == mine.pk
    assert row["owner"] == rep.pk
    assert row["people_count"] == 0


def test_account_list_filters_like_the_page(token_client, rep):
    north, east = factories.RegionFactory(name="North"), factories.RegionFactory(name="East")
    factories.AccountFactory(owner=rep, name="Acme North", region=north)
    factories.AccountFactory(owner=rep, name="Acme East", region=east)
    factories.AccountFactory(owner=rep, name="Borealis", region=north)
    response = token_client(rep).get(reverse("api:account-list"), {"q": "acme", "region": north.pk})
    assert [a["name"] for a in response.json()["results"]] == ["Acme North"]


def test_account_list_refuses_an_unknown_filter_value_with_a_field_error(token_client, rep):
    response = token_client(rep).get(reverse("api:account-list"), {"size_tier": "huge"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_choice"
    assert "size_tier" in body["fields"]


@pytest.mark.parametrize("rows", [1, 50])
def test_account_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    client = token_client(rep)
    for _ in range(rows):
        account = factories.AccountFactory(owner=rep)
        account.product_lines.add(factories.ProductLineFactory())
        factories.EmploymentFactory(account=account)
        factories.ExternalIdFactory(record=account)
    # token + user, his other tokens (knox sweeps the expired ones), the visible accounts (once),
    # count, the page with region/industry/owner joined and people counted in a subquery, one
    # prefetch of product lines, one of external ids: an N+1 on owner, people, product lines or
    # external ids would add a query per row.
    with django_assert_num_queries(7):
        response = client.get(reverse("api:account-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_account_detail_out_of_scope_is_404_in_the_error_format(token_client, rep, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    response = token_client(rep).get(reverse("api:account-detail", args=[account.pk]))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_account_update_out_of_scope_is_404_and_changes_nothing(token_client, rep, other_rep):
    account = factories.AccountFactory(owner=other_rep, notes="")
    response = token_client(rep).patch(reverse("api:account-detail", args=[account.pk]), {"notes": "mine now"})
    assert response.status_code == 404
    account.refresh_from_db()
    assert account.notes == ""


def test_account_create_goes_through_the_service(token_client, rep, lookups):
    factories.ProductLineFactory(name="Cloud")
    response = token_client(rep).post(
        reverse("api:account-list"),
        {
            "name": " Acme Tools ",
            "region": "North",
            "industry": "Retail",
            "size_tier": "key",
            "product_lines": ["Cloud"],
        },
    )
    assert response.status_code == 201, response.json()
    account = Account.objects.get()
    assert response.json()["id"] == account.pk
    assert account.name == "Acme Tools"
    assert account.normalized_name == "acme tools"
    assert [p.name for p in account.product_lines.all()] == ["Cloud"]
    assert account.history.count() == 1


def test_account_create_by_a_rep_refuses_another_owner_and_accepts_his_own(token_client, rep, other_rep, lookups):
    client = token_client(rep)
    body = {"name": "Acme", "region": "North", "industry": "Retail"}
    response = client.post(reverse("api:account-list"), {**body, "owner": other_rep.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "read_only_field"
    assert list(response.json()["fields"]) == ["owner"]
    assert not Account.objects.exists()
    response = client.post(reverse("api:account-list"), {**body, "owner": rep.pk})
    assert response.status_code == 201
    assert Account.objects.get().owner == rep


def test_account_update_by_a_rep_refuses_owner_and_read_only_fields(token_client, rep, other_rep):
    account = factories.AccountFactory(owner=rep, name="Acme")
    created = account.created_at
    response = token_client(rep).patch(
        reverse("api:account-detail", args=[account.pk]),
        {"owner": other_rep.pk, "created_at": "2000-01-01T00:00:00Z", "people_count": 99, "notes": "n", "colour": 1},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "read_only_field"
    assert body["fields"]["colour"] == ["This field does not exist."]
    assert set(body["fields"]) == {"owner", "created_at", "people_count", "colour"}
    account.refresh_from_db()
    assert (account.owner, account.created_at, account.notes) == (rep, created, "")


def test_account_unknown_field_alone_is_unknown_field(token_client, rep):
    account = factories.AccountFactory(owner=rep, name="Acme")
    response = token_client(rep).patch(reverse("api:account-detail", args=[account.pk]), {"colour": "red"})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"


def test_account_put_of_what_get_answered_is_accepted(token_client, rep):
    account = factories.AccountFactory(owner=rep, name="Acme")
    account.product_lines.add(factories.ProductLineFactory())
    client = token_client(rep)
    url = reverse("api:account-detail", args=[account.pk])
    body = client.get(url).json()
    response = client.put(url, {**body, "notes": "n"}, format="json")
    assert response.status_code == 200, response.json()
    account.refresh_from_db()
    assert account.notes == "n"


def test_account_created_by_a_rep_and_routed_to_another_answers_201_with_the_owner(
    token_client, rep, other_rep, lookups
):
    factories.TerritoryFactory(name="North", region=lookups["region"], members=[other_rep])
    client = token_client(rep)
    body = {"name": "Routed Ltd", "region": "North", "industry": "Retail"}
    response = client.post(reverse("api:account-list"), body)
    assert response.status_code == 201, response.json()
    account = Account.objects.get()
    assert response.json()["owner"] == other_rep.pk == account.owner_id
    assert "North" in response.json()["assignment_note"]
    # A retry is the duplicate it is, said as such (the first answer was not an error).
    response = client.post(reverse("api:account-list"), body)
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"


def test_manager_assigns_an_account_to_his_rep_but_not_to_another_team(token_client, manager, rep, other_rep, lookups):
    client = token_client(manager)
    response = client.post(
        reverse("api:account-list"), {"name": "Acme", "region": "North", "industry": "Retail", "owner": rep.pk}
    )
    assert response.status_code == 201
    assert Account.objects.get().owner == rep
    # Out of the manager's sight, so it does not exist for him.
    response = client.post(
        reverse("api:account-list"),
        {"name": "Borealis", "region": "North", "industry": "Retail", "owner": other_rep.pk},
    )
    assert response.status_code == 400
    assert "owner" in response.json()["fields"]
    assert Account.objects.count() == 1


def test_account_create_duplicate_is_refused_with_the_services_message(token_client, rep, lookups):
    factories.AccountFactory(owner=rep, name="Acme Ltd")
    response = token_client(rep).post(
        reverse("api:account-list"), {"name": "ACME", "region": "North", "industry": "Retail"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"
    assert "already exists: Acme Ltd" in response.json()["detail"]
    assert Account.objects.count() == 1


def test_account_create_reports_missing_fields(token_client, rep, lookups):
    response = token_client(rep).post(reverse("api:account-list"), {"name": "Acme"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "required"
    assert set(body["fields"]) == {"region", "industry"}


def test_account_delete_is_not_allowed(token_client, rep):
    account = factories.AccountFactory(owner=rep)
    response = token_client(rep).delete(reverse("api:account-detail", args=[account.pk]))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Account.objects.filter(pk=account.pk).exists()


def test_session_write_needs_the_csrf_token(client, rep, lookups):
    from rest_framework.test import APIClient

    csrf_client = APIClient(enforce_csrf_checks=True)
    csrf_client.force_login(rep)
    data = {"name": "Acme", "region": "North", "industry": "Retail"}
    response = csrf_client.post(reverse("api:account-list"), data, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    # A browser session reads freely.
    assert csrf_client.get(reverse("api:account-list")).status_code == 200


# --- Contacts -------------------------------------------------------------------------------


def test_contact_list_shows_the_timeline_and_current_position(token_client, rep):
    old = factories.AccountFactory(owner=rep, name="Old Co")
    new = factories.AccountFactory(owner=rep, name="New Co")
    contact = factories.EmploymentFactory(
        account=old, start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2022, 1, 1)
    ).contact
    factories.EmploymentFactory(contact=contact, account=new, start_date=datetime.date(2022, 2, 1), title="CIO")
    response = token_client(rep).get(reverse("api:contact-list"))
    [row] = response.json()["results"]
    assert row["current_position"]["account_name"] == "New Co"
    assert row["current_position"]["title"] == "CIO"
    assert [e["account_name"] for e in row["employments"]] == ["New Co", "Old Co"]


def test_contact_list_filters_by_current_account(token_client, rep):
    a, b = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    at_a = factories.person_at(a)
    factories.person_at(b)
    response = token_client(rep).get(reverse("api:contact-list"), {"account": a.pk})
    assert [c["id"] for c in response.json()["results"]] == [at_a.pk]


@pytest.mark.parametrize("rows", [1, 50])
def test_contact_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    client = token_client(rep)
    account = factories.AccountFactory(owner=rep)
    for _ in range(rows):
        contact = factories.person_at(account)
        factories.EmploymentFactory(contact=contact, end_date=datetime.date.today(), account__owner=rep)
        factories.ExternalIdFactory(record=contact)
    # token + user, his other tokens (knox sweeps the expired ones), the visible accounts (once),
    # count, page, the current-position prefetch, the timeline prefetch (accounts joined) and the
    # external ids prefetch: a query per contact for his positions, their accounts or his ids is the N+1.
    with django_assert_num_queries(8):
        response = client.get(reverse("api:contact-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_contact_of_another_reps_account_is_404(token_client, rep, other_rep):
    contact = factories.person_at(factories.AccountFactory(owner=other_rep))
    client = token_client(rep)
    assert client.get(reverse("api:contact-detail", args=[contact.pk])).status_code == 404
    assert client.patch(reverse("api:contact-detail", args=[contact.pk]), {"phone": "1"}).status_code == 404


def test_contact_create_with_his_current_position(token_client, rep):
    account = factories.AccountFactory(owner=rep)
    response = token_client(rep).post(
        reverse("api:contact-list"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "Ada@Example.com",
            "account": account.pk,
            "title": "CTO",
            "start_date": "2024-03-01",
        },
    )
    assert response.status_code == 201, response.json()
    contact = Contact.objects.get()
    assert contact.email == "ada@example.com"
    assert response.json()["current_position"]["account"] == account.pk
    assert contact.employments.get().title == "CTO"


def test_contact_create_at_an_account_out_of_scope_is_refused(token_client, rep, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    response = token_client(rep).post(
        reverse("api:contact-list"),
        {"first_name": "A", "last_name": "B", "account": account.pk, "title": "CTO", "start_date": "2024-03-01"},
    )
    assert response.status_code == 400
    assert "account" in response.json()["fields"]
    assert not Contact.objects.exists()


def test_contact_create_with_a_known_email_is_a_duplicate(token_client, rep):
    account = factories.AccountFactory(owner=rep)
    factories.person_at(account, contact__email="ada@example.com")
    response = token_client(rep).post(
        reverse("api:contact-list"),
        {
            "first_name": "A",
            "last_name": "B",
            "email": "ADA@example.com",
            "account": account.pk,
            "title": "CTO",
            "start_date": "2024-03-01",
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"
    assert Contact.objects.count() == 1


def test_contact_update_changes_his_own_fields_only(token_client, rep):
    contact = factories.person_at(factories.AccountFactory(owner=rep))
    client = token_client(rep)
    url = reverse("api:contact-detail", args=[contact.pk])
    response = client.patch(url, {"phone": "+44 1", "employments": []}, format="json")
    # The timeline changes through positions and moves: sending another one is refused.
    assert response.status_code == 400
    assert response.json()["code"] == "read_only_field"
    assert list(response.json()["fields"]) == ["employments"]
    # GET-modify-PUT sends the timeline back as it is: accepted.
    body = client.get(url).json()
    assert client.put(url, {**body, "phone": "+44 1"}, format="json").status_code == 200
    contact.refresh_from_db()
    assert contact.phone == "+44 1"
    assert contact.employments.count() == 1


def test_add_position_refuses_a_second_current_one(token_client, rep):
    account = factories.AccountFactory(owner=rep)
    contact = factories.person_at(account)
    url = reverse("api:contact-positions", args=[contact.pk])
    response = token_client(rep).post(url, {"account": account.pk, "title": "CEO", "start_date": "2025-01-01"})
    assert response.status_code == 400
    assert "already has a current position" in response.json()["detail"]
    assert contact.employments.count() == 1


def test_end_then_add_position_records_a_job_change(token_client, rep):
    old, new = factories.AccountFactory(owner=rep), factories.AccountFactory(owner=rep)
    contact = factories.person_at(old, start_date=datetime.date(2020, 1, 1))
    position = contact.employments.get()
    client = token_client(rep)
    response = client.post(
        reverse("api:contact-end-position", args=[contact.pk, position.pk]), {"end_date": "2024-12-31"}
    )
    assert response.status_code == 200
    assert response.json()["current_position"] is None
    response = client.post(
        reverse("api:contact-positions", args=[contact.pk]),
        {"account": new.pk, "title": "CEO", "start_date": "2025-01-01"},
    )
    assert response.status_code == 201
    assert response.json()["current_position"]["account"] == new.pk
    assert Employment.objects.filter(contact=contact).count() == 2


def test_end_position_before_its_start_is_a_field_error(token_client, rep):
    contact = factories.person_at(factories.AccountFactory(owner=rep), start_date=datetime.date(2020, 1, 1))
    position = contact.employments.get()
    response = token_client(rep).post(
        reverse("api:contact-end-position", args=[contact.pk, position.pk]), {"end_date": "2019-01-01"}
    )
    assert response.status_code == 400
    assert "end_date" in response.json()["fields"]


def test_end_position_of_another_contact_is_404(token_client, rep):
    account = factories.AccountFactory(owner=rep)
    contact, someone_else = factories.person_at(account), factories.person_at(account)
    position = someone_else.employments.get()
    response = token_client(rep).post(
        reverse("api:contact-end-position", args=[contact.pk, position.pk]), {"end_date": "2025-01-01"}
    )
    assert response.status_code == 404
    assert someone_else.employments.get().end_date is None


# --- job changes ---------------------------------------------------------------------------


def _days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def test_contact_move_by_account_name_ends_the_old_position(token_client, rep):
    old = factories.AccountFactory(owner=rep, name="Old Co")
    person = factories.EmploymentFactory(account=old, start_date=_days_ago(400)).contact
    response = token_client(rep).post(
        reverse("api:contact-move", args=[person.pk]),
        {"account_name": "New Co", "title": "CTO", "start_date": _days_ago(3).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["current_position"]["account_name"] == "New Co"
    assert person.employments.get(account=old).end_date == _days_ago(4)


def test_contact_move_needs_the_account_or_its_name(token_client, rep):
    person = factories.person_at(factories.AccountFactory(owner=rep))
    response = token_client(rep).post(
        reverse("api:contact-move", args=[person.pk]),
        {"title": "CTO", "start_date": _days_ago(3).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert person.employments.count() == 1


def test_contact_move_out_of_scope_is_404(token_client, rep, other_rep):
    person = factories.person_at(factories.AccountFactory(owner=other_rep))
    response = token_client(rep).post(
        reverse("api:contact-move", args=[person.pk]),
        {"account_name": "New Co", "title": "CTO", "start_date": _days_ago(3).isoformat()},
        format="json",
    )
    assert response.status_code == 404


def _feed(client, *changes):
    return client.post(reverse("api:job-changes"), {"changes": list(changes)}, format="json")


def test_job_change_feed_applies_then_reports_already_applied(token_client, rep):
    person = factories.EmploymentFactory(
        account=factories.AccountFactory(owner=rep), start_date=_days_ago(400), contact__email="ann@example.com"
    ).contact
    change = {
        "email": "ANN@example.com",
        "company": "Globex Inc.",
        "title": "VP",
        "start_date": _days_ago(5).isoformat(),
    }
    client = token_client(rep)
    first = _feed(client, change).json()["results"]
    assert first == [
        {"index": 0, "result": "applied", "contact": person.pk, "employment": person.employments.current().get().pk}
    ]
    # The feed sends the same move again, the company spelled a little differently.
    second = _feed(client, {**change, "company": "globex"}).json()["results"]
    assert second[0]["result"] == "already_applied"
    assert person.employments.count() == 2


def test_job_change_feed_refuses_a_bad_item_without_blocking_the_others(token_client, rep, other_rep):
    account = factories.AccountFactory(owner=rep)
    mover = factories.EmploymentFactory(account=account, start_date=_days_ago(400)).contact
    early = factories.EmploymentFactory(account=account, start_date=_days_ago(10)).contact
    stranger = factories.person_at(factories.AccountFactory(owner=other_rep))
    response = _feed(
        token_client(rep),
        {"contact": early.pk, "company": "Initech", "title": "CFO", "start_date": _days_ago(20).isoformat()},
        {"contact": stranger.pk, "company": "Initech", "title": "CFO", "start_date": _days_ago(2).isoformat()},
        {"company": "Initech", "title": "CFO", "start_date": "not a date"},
        {"contact": mover.pk, "company": "Initech", "title": "CFO", "start_date": _days_ago(2).isoformat()},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["refused", "refused", "refused", "applied"]
    assert "must start after the current one began" in results[0]["reason"]
    assert results[1]["code"] == "unknown_person"
    assert "start_date" in results[2]["reason"] or "date" in results[2]["reason"].lower()
    # The refused moves left nothing behind: no half-ended position, no account for them alone.
    assert early.employments.get().end_date is None
    assert stranger.employments.get().end_date is None
    assert mover.employments.current().get().account.name == "Initech"


def test_job_change_feed_needs_a_list_of_changes(token_client, rep):
    response = token_client(rep).post(reverse("api:job-changes"), {"changes": []}, format="json")
    assert response.status_code == 400
    assert "changes" in response.json()["fields"]


def test_api_errors_follow_the_clients_accept_language(token_client, rep, lookups):
    factories.AccountFactory(owner=rep, name="Acme Ltd")
    client = token_client(rep)
    duplicate = client.post(
        reverse("api:account-list"),
        {"name": "ACME", "region": "North", "industry": "Retail"},
        headers={"accept-language": "zh-CN"},
    ).json()
    missing = client.post(reverse("api:account-list"), {"name": "Acme"}, headers={"accept-language": "zh-CN"}).json()
    assert duplicate["detail"] == "已存在同名客户：Acme Ltd。"  # noqa: RUF001 - the service's message, translated
    assert missing["fields"]["region"] == ["该字段是必填项。"]  # DRF's own message, from DRF's catalog


def test_account_owner_change_through_the_api_needs_a_reason(token_client, manager, rep):
    other = factories.RepFactory(manager=manager)
    account = factories.AccountFactory(owner=rep)
    client = token_client(manager)
    refused = client.patch(f"/api/v1/accounts/{account.pk}/", {"owner": other.pk}, format="json")
    assert refused.status_code == 400
    account.refresh_from_db()
    assert account.owner == rep
    done = client.patch(f"/api/v1/accounts/{account.pk}/", {"owner": other.pk, "reason": "New team"}, format="json")
    assert done.status_code == 200 and done.data["owner"] == other.pk
