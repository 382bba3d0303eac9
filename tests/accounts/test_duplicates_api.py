"""/api/v1/duplicates/: the possible-duplicates list and its "not a duplicate" answers."""

import pytest
from django.urls import reverse

from accounts.models import AccountNotDuplicate, ContactNotDuplicate
from tests import factories


def _pair(owner, n=0, second_owner=None):
    first = factories.AccountFactory(name=f"Birch Labs {n}", owner=owner)
    second = factories.AccountFactory(name=f"BirchLabs {n}", owner=second_owner or owner)
    return first, second


def test_duplicates_api_lists_pairs_with_why(token_client, manager, rep):
    first, second = _pair(rep, second_owner=manager)

    response = token_client(manager).get(reverse("api:duplicate-list"), {"kind": "account"})

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "match": "name",
            "key": "birchlabs0",
            "first": {"id": first.pk, "name": "Birch Labs 0"},
            "second": {"id": second.pk, "name": "BirchLabs 0"},
        }
    ]


def test_duplicates_api_lists_people_by_email(token_client, admin_user, rep):
    account = factories.AccountFactory(owner=rep)
    first = factories.EmploymentFactory(account=account, contact__email="li.na@pine.example").contact
    second = factories.EmploymentFactory(account=account, contact__email="Li.Na+sf@pine.example").contact

    response = token_client(admin_user).get(reverse("api:duplicate-list"), {"kind": "contact", "match": "email"})

    assert [(p["first"]["id"], p["second"]["id"]) for p in response.json()["results"]] == [(first.pk, second.pk)]


def test_duplicates_api_refuses_a_match_of_another_kind(token_client, admin_user):
    response = token_client(admin_user).get(reverse("api:duplicate-list"), {"kind": "account", "match": "phone"})

    assert response.status_code == 400
    assert "match" in response.json()["fields"]


def test_duplicates_api_is_refused_to_reps(token_client, rep):
    assert token_client(rep).get(reverse("api:duplicate-list")).status_code == 403
    assert token_client(rep).post(reverse("api:duplicate-dismiss"), {}, format="json").status_code == 403


def test_duplicates_api_leaves_out_another_teams_pair(token_client, manager, other_rep):
    _pair(other_rep)

    assert token_client(manager).get(reverse("api:duplicate-list")).json()["results"] == []


def test_duplicates_api_dismiss_then_restore(token_client, manager, rep):
    first, second = _pair(rep)
    client = token_client(manager)
    body = {"kind": "account", "first": second.pk, "second": first.pk}

    response = client.post(reverse("api:duplicate-dismiss"), body, format="json")

    assert response.status_code == 201
    assert (response.json()["first"]["id"], response.json()["second"]["id"]) == (first.pk, second.pk)
    assert client.get(reverse("api:duplicate-list")).json()["results"] == []
    dismissed = client.get(reverse("api:duplicate-dismissed"), {"kind": "account"}).json()["results"]
    assert [(d["first"]["id"], d["by"]) for d in dismissed] == [(first.pk, str(manager))]

    assert client.post(reverse("api:duplicate-restore"), body, format="json").status_code == 204
    assert not AccountNotDuplicate.objects.exists()
    assert len(client.get(reverse("api:duplicate-list")).json()["results"]) == 1


def test_duplicates_api_dismiss_of_another_teams_pair_is_404(token_client, manager, rep, other_rep):
    first, second = _pair(other_rep)
    ours, theirs = _pair(rep, n=1, second_owner=other_rep)
    client = token_client(manager)

    for a, b in ((first, second), (ours, theirs)):
        response = client.post(reverse("api:duplicate-dismiss"), {"kind": "account", "first": a.pk, "second": b.pk})
        assert response.status_code == 404
    assert not AccountNotDuplicate.objects.exists()


def test_duplicates_api_dismiss_refuses_unknown_fields(token_client, admin_user, rep):
    first, second = _pair(rep)
    body = {"kind": "account", "first": first.pk, "second": second.pk, "by": admin_user.pk}

    response = token_client(admin_user).post(reverse("api:duplicate-dismiss"), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"
    assert not ContactNotDuplicate.objects.exists() and not AccountNotDuplicate.objects.exists()


def test_duplicates_api_dismiss_refuses_a_record_with_itself(token_client, admin_user, rep):
    first, _second = _pair(rep)
    body = {"kind": "account", "first": first.pk, "second": first.pk}

    assert token_client(admin_user).post(reverse("api:duplicate-dismiss"), body, format="json").status_code == 400


@pytest.mark.parametrize("rows", [1, 50])
def test_duplicates_api_query_count_does_not_grow_with_pairs(
    token_client, manager, rep, rows, django_assert_num_queries
):
    for n in range(rows):
        _pair(rep, n=n, second_owner=manager)
    client = token_client(manager)
    # token, user, the duplicated records' ids (once), count (bounded), the page of duplicates, the
    # records they pair with in one query (without it one query per pair).
    with django_assert_num_queries(6):
        response = client.get(reverse("api:duplicate-list"))
    assert len(response.json()["results"]) == min(rows, 25)
