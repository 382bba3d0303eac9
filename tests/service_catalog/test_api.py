from decimal import Decimal

import pytest
from django.urls import reverse

from service_catalog.models import Grant, ServiceItem
from tests import factories


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


@pytest.fixture
def recipient(account):
    return factories.person_at(account)


def _request(client, account, recipient, item, quantity=1, **extra):
    return client.post(
        reverse("api:grant-list"),
        {
            "item": item.pk,
            "quantity": quantity,
            "account": account.pk,
            "recipient": recipient.pk,
            "reason": "relationship",
            **extra,
        },
        format="json",
    )


def test_grant_within_the_limits_is_approved_at_once(token_client, rep, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("100.00"))
    response = _request(token_client(rep), account, recipient, item)
    assert response.status_code == 201
    assert response.json()["status"] == "approved"


def test_grant_over_a_limit_is_pending_for_the_manager(token_client, rep, manager, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))  # over the rep's 300 per grant
    response = _request(token_client(rep), account, recipient, item)
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["approver"] == manager.pk


def _preview(client, account, recipient, item, quantity=1):
    query = {"item": item.pk, "quantity": quantity, "account": account.pk, "recipient": recipient.pk}
    return client.get(reverse("api:grant-preview"), query)


def test_grant_preview_within_the_limits_says_approved_at_once_and_grants_nothing(
    token_client, rep, account, recipient
):
    item = factories.ServiceItemFactory(unit_cost=Decimal("100.00"))
    response = _preview(token_client(rep), account, recipient, item, quantity=2)
    assert response.status_code == 200
    assert response.json() == {
        "amount": "200.00",
        "within_authority": True,
        "exceeded": [],
        "approver": None,
        "approver_name": None,
        "needs_admin": False,
    }
    assert not Grant.objects.exists()


def test_grant_preview_over_a_limit_names_the_limit_and_the_manager_who_decides(
    token_client, rep, manager, account, recipient
):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))  # over the rep's 300 per grant
    body = _preview(token_client(rep), account, recipient, item).json()
    assert body["within_authority"] is False
    assert (body["approver"], body["approver_name"], body["needs_admin"]) == (manager.pk, str(manager), False)
    (limit,) = [row for row in body["exceeded"] if row["limit"] == "per_grant"]
    assert (limit["total"], limit["limit_value"], limit["over"]) == ("400.00", "300.00", "100.00")
    # What the request then does agrees with the preview.
    assert _request(token_client(rep), account, recipient, item).json()["approver"] == manager.pk


def test_grant_preview_without_a_manager_who_can_log_in_says_an_admin_decides(token_client, account, recipient):
    rep = account.owner
    rep.manager = None
    rep.save()
    body = _preview(
        token_client(rep), account, recipient, factories.ServiceItemFactory(unit_cost=Decimal("400"))
    ).json()
    assert (body["approver"], body["needs_admin"]) == (None, True)


def test_grant_preview_applies_the_requests_rules(token_client, rep, other_rep, account, recipient):
    client = token_client(rep)
    stranger = factories.person_at(factories.AccountFactory(owner=other_rep))
    response = _preview(client, account, stranger, factories.ServiceItemFactory())
    assert response.status_code == 400 and "recipient" in response.json()["fields"]  # out of scope
    elsewhere = factories.person_at(factories.AccountFactory(owner=rep))
    response = _preview(client, account, elsewhere, factories.ServiceItemFactory())
    assert response.status_code == 400
    assert "does not currently work at" in response.json()["fields"]["recipient"][0]
    retired = factories.ServiceItemFactory(active=False)
    assert "no longer in the catalog" in _preview(client, account, recipient, retired).json()["fields"]["item"][0]
    response = client.get(reverse("api:grant-preview"), {"item": "x", "quantity": 0})
    assert response.status_code == 400
    assert {"item", "quantity", "account", "recipient"} <= set(response.json()["fields"])
    response = client.get(reverse("api:grant-preview"), {"item": retired.pk, "quantity": 1, "amount": "1"})
    assert response.status_code == 400 and response.json()["code"] == "unknown_field"


def test_grant_preview_takes_only_get(token_client, rep):
    assert token_client(rep).post(reverse("api:grant-preview"), {}, format="json").status_code == 405


def test_grant_amount_and_status_cannot_be_set_by_the_caller(token_client, rep, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))
    response = _request(token_client(rep), account, recipient, item, amount="1.00", unit_cost="1.00", status="approved")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"amount", "unit_cost", "status"}
    assert not Grant.objects.exists()


def test_grant_on_an_account_out_of_scope_is_a_field_error(token_client, rep, other_rep, recipient):
    other = factories.AccountFactory(owner=other_rep)
    response = _request(token_client(rep), other, recipient, factories.ServiceItemFactory())
    assert response.status_code == 400
    assert "account" in response.json()["fields"]
    assert not Grant.objects.exists()


def test_manager_approves_a_pending_grant(token_client, rep, manager, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))
    grant_id = _request(token_client(rep), account, recipient, item).json()["id"]
    response = token_client(manager).post(reverse("api:grant-approve", args=[grant_id]), {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"


def test_rep_cannot_approve_even_his_own_grant(token_client, rep, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))
    client = token_client(rep)
    grant_id = _request(client, account, recipient, item).json()["id"]
    assert client.post(reverse("api:grant-approve", args=[grant_id]), {}, format="json").status_code == 403
    assert Grant.objects.get(pk=grant_id).status == "pending"


def test_reject_needs_a_note(token_client, rep, manager, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))
    grant_id = _request(token_client(rep), account, recipient, item).json()["id"]
    client = token_client(manager)
    response = client.post(reverse("api:grant-reject", args=[grant_id]), {}, format="json")
    assert response.status_code == 400
    assert "note" in response.json()["fields"]
    response = client.post(reverse("api:grant-reject", args=[grant_id]), {"note": "too much"}, format="json")
    assert response.json()["status"] == "rejected"


def test_rep_cancels_his_pending_grant_and_not_twice(token_client, rep, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))
    client = token_client(rep)
    grant_id = _request(client, account, recipient, item).json()["id"]
    assert client.post(reverse("api:grant-cancel", args=[grant_id])).json()["status"] == "cancelled"
    response = client.post(reverse("api:grant-cancel", args=[grant_id]))
    assert response.status_code == 400
    assert "no longer pending" in response.json()["detail"]


def test_grant_out_of_scope_is_404(token_client, rep, other_rep):
    grant = factories.GrantFactory(account=factories.AccountFactory(owner=other_rep))
    assert token_client(rep).get(reverse("api:grant-detail", args=[grant.pk])).status_code == 404
    assert token_client(rep).post(reverse("api:grant-cancel", args=[grant.pk])).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_grant_list_query_count_does_not_grow_with_rows(token_client, rep, account, rows, django_assert_num_queries):
    client = token_client(rep)
    factories.GrantFactory.create_batch(rows, account=account)
    # token with its user, his other tokens (knox sweeps the expired ones), the visible accounts
    # (once), count, the page with item, account, recipient, rep, deciders and deal joined: an N+1
    # on any of them would add a query per row.
    with django_assert_num_queries(5):
        response = client.get(reverse("api:grant-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_only_admins_write_the_catalog(token_client, rep, admin_user):
    body = {"name": "Workshop", "unit_cost": "250.00"}
    assert token_client(rep).post(reverse("api:service-item-list"), body, format="json").status_code == 403
    response = token_client(admin_user).post(reverse("api:service-item-list"), body, format="json")
    assert response.status_code == 201
    assert ServiceItem.objects.get(name="Workshop").unit_cost == Decimal("250.00")


def test_catalog_update_goes_through_the_service(token_client, admin_user):
    factories.ServiceItemFactory(name="Taken")
    item = factories.ServiceItemFactory(name="Lunch")
    response = token_client(admin_user).patch(
        reverse("api:service-item-detail", args=[item.pk]), {"name": "taken"}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()["fields"]


@pytest.mark.parametrize("rows", [1, 50])
def test_service_item_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    client = token_client(rep)
    factories.ServiceItemFactory.create_batch(rows)
    # token with its user, his other tokens (knox sweeps the expired ones), count, the page with the
    # grant count annotated: no query per item.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:service-item-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_grant_list_refuses_an_id_filter_out_of_a_keys_range_with_400(token_client, rep):
    # Found by schemathesis: a huge or fractional id overflowed SQLite's integer (a 500).
    client = token_client(rep)
    for value in ("-1.9e56", str(2**63), "3.5", "0"):
        response = client.get(reverse("api:grant-list"), {"rep": value})
        assert response.status_code == 400, value
        assert "rep" in response.json()["fields"]
    assert client.get(reverse("api:grant-list"), {"rep": rep.pk}).status_code == 200
