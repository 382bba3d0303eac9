"""The territory pages (admins) and the conflict report (managers, admins)."""

import pytest
from django.urls import reverse

from accounts.models import Territory
from tests import factories


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- territories (admins) -------------------------------------------------------------------


def test_territory_pages_are_404_for_reps_and_managers(client_for, rep, manager):
    territory = factories.TerritoryFactory()
    for client in (client_for(rep), client_for(manager)):
        assert client.get(reverse("accounts:territory-list")).status_code == 404
        assert client.get(reverse("accounts:territory-create")).status_code == 404
        assert client.get(reverse("accounts:territory-update", args=[territory.pk])).status_code == 404
        assert client.get(reverse("accounts:territory-preview")).status_code == 404
        assert client.post(reverse("accounts:territory-deactivate", args=[territory.pk])).status_code == 404
        assert client.post(reverse("accounts:territory-move", args=[territory.pk])).status_code == 404


def test_territory_list_in_precedence_order(admin_client):
    second = factories.TerritoryFactory(name="Second", order=2)
    first = factories.TerritoryFactory(name="First", order=1, members=[factories.RepFactory(first_name="Zed")])
    response = admin_client.get(reverse("accounts:territory-list"))
    assert list(response.context["territories"]) == [first, second]
    assert b"Zed" in response.content


@pytest.mark.parametrize("rows", [1, 50])
def test_territory_list_query_count_does_not_grow_with_rows(admin_client, rows, north, django_assert_num_queries):
    for _ in range(rows):
        factories.TerritoryFactory(region=north, members=factories.RepFactory.create_batch(2))
    # session, user, territories with region/product line/industry joined (not one query
    # each per row), members prefetched in one query (not one per territory), unread badge.
    with django_assert_num_queries(5):
        assert admin_client.get(reverse("accounts:territory-list")).status_code == 200


def test_territory_create_page_adds_a_territory(admin_client, rep, north):
    response = admin_client.post(
        reverse("accounts:territory-create"),
        {"name": "North", "members": [rep.pk], "region": north.pk, "size_tier": "key"},
    )
    assert response.status_code == 302
    territory = Territory.objects.get()
    assert (territory.name, territory.region, territory.size_tier, list(territory.members.all())) == (
        "North",
        north,
        "key",
        [rep],
    )


def test_territory_create_page_shows_a_service_error(admin_client):
    factories.TerritoryFactory(name="North")
    response = admin_client.post(reverse("accounts:territory-create"), {"name": "north"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["There is already a territory called north."]}


def test_territory_create_wrong_method_is_405(admin_client):
    assert admin_client.put(reverse("accounts:territory-create")).status_code == 405


def test_territory_update_page_shows_coverage_and_history_and_saves(admin_client, north):
    factories.AccountFactory(region=north)
    factories.AccountFactory(region=factories.RegionFactory(name="East"))
    territory = factories.TerritoryFactory(name="North", region=north)
    url = reverse("accounts:territory-update", args=[territory.pk])
    response = admin_client.get(url)
    assert response.context["preview"] == 1
    assert b"This rule covers 1 account." in response.content
    assert b"Change history" in response.content
    assert admin_client.post(url, {"name": "Northern"}).status_code == 302
    territory.refresh_from_db()
    assert (territory.name, territory.region) == ("Northern", None)


def test_territory_update_unknown_is_404(admin_client):
    assert admin_client.get(reverse("accounts:territory-update", args=[999])).status_code == 404


def test_territory_preview_counts_in_one_query(admin_client, north, django_assert_num_queries):
    factories.AccountFactory.create_batch(3, region=north, size_tier="key")
    factories.AccountFactory(region=north, size_tier="mid")
    # session, user, the region choice lookup (form validation), one COUNT.
    with django_assert_num_queries(4):
        response = admin_client.get(
            reverse("accounts:territory-preview"),
            {"region": north.pk, "size_tier": "key"},
            headers={"HX-Request": "true"},
        )
    assert b"This rule covers 3 accounts." in response.content
    response = admin_client.get(reverse("accounts:territory-preview"), {"region": "nope"})
    assert b"Choose a valid rule" in response.content


def test_territory_deactivate_and_move(admin_client):
    a, b = factories.TerritoryFactory(name="A"), factories.TerritoryFactory(name="B")
    admin_client.post(reverse("accounts:territory-move", args=[b.pk]), {"direction": "up"})
    assert list(Territory.objects.in_precedence()) == [b, a]
    response = admin_client.post(reverse("accounts:territory-move", args=[b.pk]), {"direction": "up"}, follow=True)
    assert b"B is already the first." in response.content
    admin_client.post(reverse("accounts:territory-deactivate", args=[a.pk]))
    a.refresh_from_db()
    assert not a.active


def test_territory_deactivate_and_move_refuse_get(admin_client):
    territory = factories.TerritoryFactory()
    assert admin_client.get(reverse("accounts:territory-deactivate", args=[territory.pk])).status_code == 405
    assert admin_client.get(reverse("accounts:territory-move", args=[territory.pk])).status_code == 405


# --- conflicts (managers, admins) -----------------------------------------------------------


def test_conflict_page_is_404_for_reps(rep_client):
    assert rep_client.get(reverse("accounts:territory-conflicts")).status_code == 404


def test_conflict_page_lists_the_managers_team_with_a_reassign_link(manager_client, rep, other_rep, north):
    factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory()])
    ours = factories.AccountFactory(name="Ours", owner=rep, region=north)
    factories.AccountFactory(name="Theirs", owner=other_rep, region=north)
    response = manager_client.get(reverse("accounts:territory-conflicts"))
    assert [a.name for a in response.context["page"]] == ["Ours"]
    assert reverse("accounts:account-reassign", args=[ours.pk]).encode() in response.content
    assert b"The owner is in none of the territories that cover it." in response.content


def test_conflict_page_refuses_post(manager_client):
    assert manager_client.post(reverse("accounts:territory-conflicts")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_conflict_page_query_count_does_not_grow_with_rows(admin_client, rows, north, django_assert_num_queries):
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[alice])
    factories.TerritoryFactory(members=[alice, bob])
    for _ in range(rows):
        account = factories.AccountFactory(owner=bob, region=north)
        factories.HolderFactory(coach=factories.CoachFactory(account=account, holder=alice), user=bob)
    # session, user, COUNT, one page of accounts with the three conflict flags, the winning
    # territory and the owner as subqueries and joins (not a query per account or per
    # territory), unread badge.
    with django_assert_num_queries(5):
        response = admin_client.get(reverse("accounts:territory-conflicts"))
    assert response.context["page"].paginator.count == rows


def test_navigation_shows_territories_to_admins_and_conflicts_to_managers(rep, manager, admin_user):
    from coachcrm.context_processors import navigation_for

    def labels(user):
        entries = navigation_for(user)
        return {str(e["label"]) for e in entries} | {str(c["label"]) for e in entries for c in e.get("children", [])}

    assert {"Territories", "Conflicts"} <= labels(admin_user)
    assert "Conflicts" in labels(manager) and "Territories" not in labels(manager)
    assert not {"Territories", "Conflicts"} & labels(rep)


def test_territory_history_names_the_members(admin_client, admin_user):
    from accounts import territories as territory_services

    territory = territory_services.territory_create(
        by=admin_user, name="North", members=[factories.RepFactory(first_name="Xavi", last_name="Member")]
    )
    response = admin_client.get(reverse("accounts:territory-update", args=[territory.pk]))
    assert b"Xavi Member" in response.content.split(b"Change history")[1]
    assert b"'user'" not in response.content
