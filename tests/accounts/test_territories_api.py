"""The territories API: everyone reads, admins write."""

import pytest
from django.urls import reverse

from tests import factories


def test_territories_are_read_by_everyone_and_written_by_admins(token_client, rep, admin_user):
    assert token_client(rep).post(reverse("api:territory-list"), {"name": "North"}, format="json").status_code == 403
    client = token_client(admin_user)
    response = client.post(
        reverse("api:territory-list"), {"name": "North", "members": [rep.pk], "order": 99}, format="json"
    )
    # Precedence is the service's (the up/down action): refused, not ignored.
    assert response.json()["fields"] == {"order": ["This field cannot be set here."]}
    response = client.post(reverse("api:territory-list"), {"name": "North", "members": [rep.pk]}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["order"] == 1  # set by the service, not the caller
    assert token_client(rep).get(reverse("api:territory-list")).json()["count"] == 1


@pytest.mark.parametrize("rows", [1, 50])
def test_territory_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    client = token_client(rep)
    for _ in range(rows):
        factories.TerritoryFactory(members=[rep])
    # token with its user, his other tokens (knox sweeps the expired ones), count, the page with its
    # rule's lookups joined, one prefetch of the members: an N+1 on members would add a query per
    # territory.
    with django_assert_num_queries(5):
        response = client.get(reverse("api:territory-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_territory_deactivate_and_move_through_the_api(token_client, admin_user, rep):
    first, second = factories.TerritoryFactory(name="A"), factories.TerritoryFactory(name="B")
    assert token_client(rep).post(reverse("api:territory-deactivate", args=[first.pk])).status_code == 403
    client = token_client(admin_user)
    response = client.post(reverse("api:territory-move", args=[second.pk]), {"up": True}, format="json")
    assert response.status_code == 200, response.json()
    assert [t["name"] for t in response.json()] == ["B", "A"]
    response = client.post(reverse("api:territory-deactivate", args=[first.pk]))
    assert response.status_code == 200
    assert response.json()["active"] is False
