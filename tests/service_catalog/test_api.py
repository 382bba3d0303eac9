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
