import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from coaches.models import Handover
from team.models import Territory, User
from tests import factories


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- territories (admins) -------------------------------------------------------------------


def test_territory_pages_are_404_for_reps_and_managers(rep_client, manager_client):
    territory = factories.TerritoryFactory()
    for client in (rep_client, manager_client):
        assert client.get(reverse("team:territory-list")).status_code == 404
        assert client.get(reverse("team:territory-create")).status_code == 404
        assert client.get(reverse("team:territory-update", args=[territory.pk])).status_code == 404
        assert client.get(reverse("team:territory-preview")).status_code == 404
        assert client.post(reverse("team:territory-deactivate", args=[territory.pk])).status_code == 404
        assert client.post(reverse("team:territory-move", args=[territory.pk])).status_code == 404


def test_territory_list_in_precedence_order(admin_client):
    second = factories.TerritoryFactory(name="Second", order=2)
    first = factories.TerritoryFactory(name="First", order=1, members=[factories.RepFactory(first_name="Zed")])
    response = admin_client.get(reverse("team:territory-list"))
    assert list(response.context["territories"]) == [first, second]
    assert b"Zed" in response.content


@pytest.mark.parametrize("rows", [1, 50])
def test_territory_list_query_count_does_not_grow_with_rows(admin_client, rows, north, django_assert_num_queries):
    for _ in range(rows):
        factories.TerritoryFactory(region=north, members=factories.RepFactory.create_batch(2))
    # session, user, territories with region/product line/industry joined (not one query
    # each per row), members prefetched in one query (not one per territory), unread badge.
    with django_assert_num_queries(5):
        assert admin_client.get(reverse("team:territory-list")).status_code == 200


def test_territory_create_page_adds_a_territory(admin_client, rep, north):
    response = admin_client.post(
        reverse("team:territory-create"),
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
    response = admin_client.post(reverse("team:territory-create"), {"name": "north"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["There is already a territory called north."]}


def test_territory_create_wrong_method_is_405(admin_client):
    assert admin_client.put(reverse("team:territory-create")).status_code == 405


def test_territory_update_page_shows_coverage_and_history_and_saves(admin_client, north):
    factories.AccountFactory(region=north)
    factories.AccountFactory(region=factories.RegionFactory(name="East"))
    territory = factories.TerritoryFactory(name="North", region=north)
    url = reverse("team:territory-update", args=[territory.pk])
    response = admin_client.get(url)
    assert response.context["preview"] == 1
    assert b"This rule covers 1 account." in response.content
    assert b"Change history" in response.content
    assert admin_client.post(url, {"name": "Northern"}).status_code == 302
    territory.refresh_from_db()
    assert (territory.name, territory.region) == ("Northern", None)


def test_territory_update_unknown_is_404(admin_client):
    assert admin_client.get(reverse("team:territory-update", args=[999])).status_code == 404


def test_territory_preview_counts_in_one_query(admin_client, north, django_assert_num_queries):
    factories.AccountFactory.create_batch(3, region=north, size_tier="key")
    factories.AccountFactory(region=north, size_tier="mid")
    # session, user, the region choice lookup (form validation), one COUNT.
    with django_assert_num_queries(4):
        response = admin_client.get(
            reverse("team:territory-preview"), {"region": north.pk, "size_tier": "key"}, headers={"HX-Request": "true"}
        )
    assert b"This rule covers 3 accounts." in response.content
    response = admin_client.get(reverse("team:territory-preview"), {"region": "nope"})
    assert b"Choose a valid rule" in response.content


def test_territory_deactivate_and_move(admin_client):
    a, b = factories.TerritoryFactory(name="A"), factories.TerritoryFactory(name="B")
    admin_client.post(reverse("team:territory-move", args=[b.pk]), {"direction": "up"})
    assert list(Territory.objects.in_precedence()) == [b, a]
    response = admin_client.post(reverse("team:territory-move", args=[b.pk]), {"direction": "up"}, follow=True)
    assert b"B is already the first." in response.content
    admin_client.post(reverse("team:territory-deactivate", args=[a.pk]))
    a.refresh_from_db()
    assert not a.active


def test_territory_deactivate_and_move_refuse_get(admin_client):
    territory = factories.TerritoryFactory()
    assert admin_client.get(reverse("team:territory-deactivate", args=[territory.pk])).status_code == 405
    assert admin_client.get(reverse("team:territory-move", args=[territory.pk])).status_code == 405


# --- conflicts (managers, admins) -----------------------------------------------------------


def test_conflict_page_is_404_for_reps(rep_client):
    assert rep_client.get(reverse("team:territory-conflicts")).status_code == 404


def test_conflict_page_lists_the_managers_team_with_a_reassign_link(manager_client, rep, other_rep, north):
    factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory()])
    ours = factories.AccountFactory(name="Ours", owner=rep, region=north)
    factories.AccountFactory(name="Theirs", owner=other_rep, region=north)
    response = manager_client.get(reverse("team:territory-conflicts"))
    assert [a.name for a in response.context["page"]] == ["Ours"]
    assert reverse("accounts:account-reassign", args=[ours.pk]).encode() in response.content
    assert b"The owner is in none of the territories that cover it." in response.content


def test_conflict_page_refuses_post(manager_client):
    assert manager_client.post(reverse("team:territory-conflicts")).status_code == 405


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
        response = admin_client.get(reverse("team:territory-conflicts"))
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
    from team import services

    territory = services.territory_create(
        by=admin_user, name="North", members=[factories.RepFactory(first_name="Xavi", last_name="Member")]
    )
    response = admin_client.get(reverse("team:territory-update", args=[territory.pk]))
    assert b"Xavi Member" in response.content.split(b"Change history")[1]
    assert b"'user'" not in response.content


"""Team page, departure page, handover reassignment and "My handovers"."""


TODAY = timezone.localdate()


def later(n: int = 30) -> str:
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def coach_of(user):
    return factories.CoachFactory(account=factories.AccountFactory(owner=user), holder=user)


@pytest.fixture
def leaving(rep):
    rep.status, rep.departure_date, rep.departure_flagged_at = User.Status.LEAVING, TODAY, timezone.now()
    rep.save()
    return rep


# --- team page ------------------------------------------------------------------------------


def test_team_page_lists_the_managers_reps_with_their_counts(manager_client, rep, other_rep):
    coach_of(rep)
    response = manager_client.get(reverse("team:team-list"))
    assert [u.pk for u in response.context["page"]] == [rep.pk]
    assert response.context["page"][0].coach_count == 1
    assert b"Start departure" in response.content


def test_team_page_is_404_for_a_rep_and_405_for_post(client, rep, manager):
    client.force_login(rep)
    assert client.get(reverse("team:team-list")).status_code == 404
    client.force_login(manager)
    assert client.post(reverse("team:team-list")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_team_page_query_count_does_not_grow_with_reps(manager_client, manager, rows, django_assert_num_queries):
    for _ in range(rows):
        coach_of(factories.RepFactory(manager=manager))
    # session, user, count, the page of reps with coach / at-risk / handover counts as
    # subqueries (counting per rep would add three queries a row), the unread badge.
    with django_assert_num_queries(5):
        response = manager_client.get(reverse("team:team-list"))
    assert response.status_code == 200


# --- departure page -------------------------------------------------------------------------


def test_departure_start_flags_and_redirects(manager_client, rep, django_capture_on_commit_callbacks):
    coach = coach_of(rep)
    url = reverse("team:departure-create", args=[rep.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {"departure_date": later()})
    assert response.status_code == 302 and response.url == reverse("team:departure-detail", args=[rep.pk])
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING and Handover.objects.get().coach == coach
    page = manager_client.get(response.url)
    assert coach.contact.last_name.encode() in page.content and b"0 of 1 done" in page.content


def test_departure_start_form_error_shows_the_service_message(manager_client, rep):
    response = manager_client.post(
        reverse("team:departure-create", args=[rep.pk]), {"departure_date": (TODAY - datetime.timedelta(days=1))}
    )
    assert response.status_code == 200
    assert "cannot be in the past" in response.context["form"].errors["departure_date"][0]
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_departure_start_with_the_broker_down_says_the_jobs_are_delayed(manager_client, rep, monkeypatch):
    # Transactional: the enqueue runs on the real commit, before the view renders its message.
    from kombu.exceptions import OperationalError

    from team import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.departure_flag_at_risk_task, "delay", broker_down)
    response = manager_client.post(reverse("team:departure-create", args=[rep.pk]), {"departure_date": later()})
    assert response.status_code == 302
    assert "jobs are delayed" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING and rep.departure_flagged_at is None


def test_departure_pages_are_404_out_of_scope_and_405_on_wrong_method(client, rep, other_rep):
    client.force_login(factories.ManagerFactory())
    assert client.get(reverse("team:departure-detail", args=[rep.pk])).status_code == 404
    assert client.post(reverse("team:departure-create", args=[rep.pk]), {"departure_date": later()}).status_code == 404
    client.force_login(other_rep)
    assert client.get(reverse("team:departure-detail", args=[rep.pk])).status_code == 404
    client.force_login(rep.manager)
    assert client.get(reverse("team:departure-create", args=[rep.pk])).status_code == 405
    assert client.post(reverse("team:departure-detail", args=[rep.pk])).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_departure_page_query_count_does_not_grow_with_handovers(
    manager_client, leaving, rows, django_assert_num_queries
):
    for _ in range(rows):
        factories.HandoverFactory(coach=coach_of(leaving))
    # session, user, the rep, count + the page of handovers with coach, account, contact and
    # both users joined and the holds/touched checks as EXISTS (per row they would be an N+1),
    # the successor choices once for every row's select, the progress aggregate, the
    # retention query, the unread badge.
    with django_assert_num_queries(9):
        response = manager_client.get(reverse("team:departure-detail", args=[leaving.pk]))
    assert response.status_code == 200


# --- reassign -------------------------------------------------------------------------------


def test_handover_reassign_from_the_departure_page(manager_client, manager, leaving):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    colleague = factories.RepFactory(manager=manager)
    response = manager_client.post(reverse("team:handover-reassign", args=[handover.pk]), {"to_user": colleague.pk})
    assert response.status_code == 302 and response.url == reverse("team:departure-detail", args=[leaving.pk])
    handover.refresh_from_db()
    assert handover.to_user == colleague


def test_handover_reassign_form_error_for_someone_outside_the_team(manager_client, leaving, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    response = manager_client.post(reverse("team:handover-reassign", args=[handover.pk]), {"to_user": other_rep.pk})
    assert response.status_code == 302
    assert "Choose an active colleague" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    handover.refresh_from_db()
    assert handover.to_user == leaving.manager


def test_handover_reassign_is_404_out_of_scope_405_on_get_and_refused_to_the_successor(client, leaving, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    url = reverse("team:handover-reassign", args=[handover.pk])
    client.force_login(other_rep)
    assert client.post(url, {"to_user": other_rep.pk}).status_code == 404
    client.force_login(leaving.manager)
    assert client.get(url).status_code == 405
    successor = factories.RepFactory(manager=leaving.manager)
    Handover.objects.filter(pk=handover.pk).update(to_user=successor)
    client.force_login(successor)
    response = client.post(url, {"to_user": successor.pk})
    assert "manager or an admin" in " ".join(str(m) for m in get_messages(response.wsgi_request))


# --- my handovers ---------------------------------------------------------------------------


def test_my_handovers_lists_what_the_user_takes_over_and_lets_him_see_the_coach(client, leaving):
    successor = factories.RepFactory(manager=leaving.manager)
    handover = factories.HandoverFactory(coach=coach_of(leaving), to_user=successor)
    factories.HandoverFactory(coach=coach_of(leaving))  # to the manager
    client.force_login(successor)
    response = client.get(reverse("team:handover-list"))
    assert [h.pk for h in response.context["page"]] == [handover.pk]
    assert client.get(handover.coach.get_absolute_url()).status_code == 200
    assert client.post(reverse("team:handover-list")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_my_handovers_query_count_does_not_grow_with_rows(client, leaving, rows, django_assert_num_queries):
    successor = factories.RepFactory(manager=leaving.manager)
    for _ in range(rows):
        factories.HandoverFactory(coach=coach_of(leaving), to_user=successor)
    client.force_login(successor)
    # session, user, count, the page with coach, account, contact and from-user joined and the
    # holds/touched checks as EXISTS (an N+1 on any of them would add a query per row), unread badge.
    with django_assert_num_queries(5):
        response = client.get(reverse("team:handover-list"))
    assert response.status_code == 200
