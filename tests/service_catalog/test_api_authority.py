"""The authority matrix through the API: admins only, set through authority_set."""

from decimal import Decimal

from django.urls import reverse

from service_catalog.models import Authority


def test_admin_sets_and_lists_authority_rows(token_client, admin_user, rep):
    client = token_client(admin_user)
    url = reverse("api:authority-list")
    response = client.post(url, {"role": "rep", "per_grant": "250.00"}, format="json")
    assert response.status_code == 201, response.json()
    response = client.post(url, {"user": rep.pk, "per_grant": "50", "per_month": None}, format="json")
    assert response.status_code == 201, response.json()
    assert Authority.objects.get(user=rep).per_grant == Decimal("50")
    rows = client.get(url).json()
    assert {(r["role"], r["user"]) for r in rows} >= {("rep", None), ("", rep.pk)}


def test_authority_needs_a_role_or_a_user_not_both(token_client, admin_user, rep):
    response = token_client(admin_user).post(
        reverse("api:authority-list"), {"role": "rep", "user": rep.pk, "per_grant": "1"}, format="json"
    )
    assert response.status_code == 400


def test_authority_is_not_for_reps_or_managers(token_client, rep, manager):
    for user in (rep, manager):
        client = token_client(user)
        assert client.get(reverse("api:authority-list")).status_code == 403
        assert client.post(reverse("api:authority-list"), {"role": "rep", "per_grant": "1"}).status_code == 403


def test_item_deactivate_is_an_admin_action(token_client, admin_user, rep):
    from tests import factories

    item = factories.ServiceItemFactory()
    url = reverse("api:service-item-deactivate", args=[item.pk])
    assert token_client(rep).post(url).status_code == 403
    response = token_client(admin_user).post(url)
    assert response.status_code == 200
    assert response.json()["active"] is False
    # A second time is the service's refusal, not a silent success.
    assert token_client(admin_user).post(url).status_code == 400
