"""The territories API: everyone reads, admins write."""

import pytest
from django.urls import reverse

from tests import factories


def test_territories_are_read_by_everyone_and_written_by_admins(token_client, rep, admin_user):
    assert token_client(rep).post(reverse("api:territory-list"), {"name": "North"}, format="json").status_code == 403
    response = token_client(admin_user).post(
        reverse("api:territory-list"), {"name": "North", "members": [rep.pk], "order": 99}, format="json"
    )
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
