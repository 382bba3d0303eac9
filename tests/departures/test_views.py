"""Team page, departure page, handover reassignment and "My handovers"."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from coaches.models import Handover
from team.models import User
from tests import factories

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
    response = manager_client.get(reverse("departures:team-list"))
    assert [u.pk for u in response.context["page"]] == [rep.pk]
    assert response.context["page"][0].coach_count == 1
    assert b"Start departure" in response.content


def test_team_page_is_404_for_a_rep_and_405_for_post(client, rep, manager):
    client.force_login(rep)
    assert client.get(reverse("departures:team-list")).status_code == 404
    client.force_login(manager)
    assert client.post(reverse("departures:team-list")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_team_page_query_count_does_not_grow_with_reps(manager_client, manager, rows, django_assert_num_queries):
    for _ in range(rows):
        coach_of(factories.RepFactory(manager=manager))
    # session, user, count, the page of reps with coach / at-risk / handover counts as
    # subqueries (counting per rep would add three queries a row), the unread badge.
    with django_assert_num_queries(5):
        response = manager_client.get(reverse("departures:team-list"))
    assert response.status_code == 200


# --- departure page -------------------------------------------------------------------------


def test_departure_start_flags_and_redirects(manager_client, rep, django_capture_on_commit_callbacks):
    coach = coach_of(rep)
    url = reverse("departures:departure-create", args=[rep.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {"departure_date": later(), "confirm": "on"})
    assert response.status_code == 302 and response.url == reverse("departures:departure-detail", args=[rep.pk])
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING and Handover.objects.get().coach == coach
    page = manager_client.get(response.url)
    assert coach.contact.last_name.encode() in page.content and b"0 of 1 done" in page.content


def test_departure_start_asks_to_confirm_with_what_will_happen_and_writes_nothing(manager_client, rep):
    coach_of(rep)
    response = manager_client.post(reverse("departures:departure-create", args=[rep.pk]), {"departure_date": later()})
    assert response.status_code == 200
    assert response.context["preview"]["coaches_at_risk"] == 1
    assert b'name="confirm" value="on"' in response.content
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE and not Handover.objects.exists()


def test_departure_form_has_no_date_filled_in(manager_client, rep):
    page = manager_client.get(reverse("departures:departure-detail", args=[rep.pk]))
    assert page.context["form"]["departure_date"].value() is None


def test_departure_cancel_page_undoes_and_is_404_out_of_scope_405_on_get(client, manager, leaving):
    url = reverse("departures:departure-cancel", args=[leaving.pk])
    client.force_login(factories.ManagerFactory())
    assert client.post(url).status_code == 404
    client.force_login(manager)
    assert client.get(url).status_code == 405
    assert b"Cancel the departure" in client.get(reverse("departures:departure-detail", args=[leaving.pk])).content
    response = client.post(url)
    assert response.status_code == 302
    assert "cancelled" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    leaving.refresh_from_db()
    assert leaving.status == User.Status.ACTIVE


def test_departure_cancel_refused_to_a_rep_says_why(client, rep, leaving):
    colleague = factories.RepFactory(manager=rep.manager)
    client.force_login(colleague)
    # A rep may not see a colleague's departure at all.
    assert client.post(reverse("departures:departure-cancel", args=[leaving.pk])).status_code == 404


def test_departure_start_form_error_shows_the_service_message(manager_client, rep):
    response = manager_client.post(
        reverse("departures:departure-create", args=[rep.pk]), {"departure_date": (TODAY - datetime.timedelta(days=1))}
    )
    assert response.status_code == 200
    assert "cannot be in the past" in response.context["form"].errors["departure_date"][0]
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_departure_start_with_the_broker_down_says_the_jobs_are_delayed(manager_client, rep, fake_broker):
    # Transactional: the relay runs on the real commit, before the view renders its message.
    fake_broker.down = True
    response = manager_client.post(
        reverse("departures:departure-create", args=[rep.pk]), {"departure_date": later(), "confirm": "on"}
    )
    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1 and "jobs are delayed" in shown[0]  # the departure's own message, not the generic one too
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING and rep.departure_flagged_at is None


def test_departure_pages_are_404_out_of_scope_and_405_on_wrong_method(client, rep, other_rep):
    client.force_login(factories.ManagerFactory())
    assert client.get(reverse("departures:departure-detail", args=[rep.pk])).status_code == 404
    assert (
        client.post(reverse("departures:departure-create", args=[rep.pk]), {"departure_date": later()}).status_code
        == 404
    )
    client.force_login(other_rep)
    assert client.get(reverse("departures:departure-detail", args=[rep.pk])).status_code == 404
    client.force_login(rep.manager)
    assert client.get(reverse("departures:departure-create", args=[rep.pk])).status_code == 405
    assert client.post(reverse("departures:departure-detail", args=[rep.pk])).status_code == 405


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
        response = manager_client.get(reverse("departures:departure-detail", args=[leaving.pk]))
    assert response.status_code == 200


def test_departure_page_lists_the_handovers_in_order_across_pages(manager_client, leaving):
    """Open first, then done newest first, each by due date; the page's rows (found by id, then
    joined) are the same handovers in the same order as the one ordered query, page by page."""
    statuses = [Handover.Status.OPEN, Handover.Status.DONE, Handover.Status.CANCELLED]
    for n in range(30):
        status = statuses[n % 3]
        factories.HandoverFactory(
            coach=coach_of(leaving),
            status=status,
            due_on=TODAY + datetime.timedelta(days=n % 4),
            # Two done at the same moment: the due date and the id break the tie.
            done_at=None if status == Handover.Status.OPEN else timezone.now() - datetime.timedelta(days=n // 6),
        )
    expected = list(
        Handover.objects.filter(from_user=leaving)
        .order_by(F("done_at").desc(nulls_first=True), "status", "due_on", "pk")
        .values_list("pk", flat=True)
    )
    url = reverse("departures:departure-detail", args=[leaving.pk])
    shown = [h.pk for page in (1, 2) for h in manager_client.get(url, {"page": page}).context["page"].object_list]
    assert shown == expected and len(shown) == 30


# --- reassign -------------------------------------------------------------------------------


def test_handover_reassign_from_the_departure_page(manager_client, manager, leaving):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    colleague = factories.RepFactory(manager=manager)
    response = manager_client.post(
        reverse("departures:handover-reassign", args=[handover.pk]), {"to_user": colleague.pk}
    )
    assert response.status_code == 302 and response.url == reverse("departures:departure-detail", args=[leaving.pk])
    handover.refresh_from_db()
    assert handover.to_user == colleague


def test_handover_reassign_form_error_for_someone_outside_the_team(manager_client, leaving, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    response = manager_client.post(
        reverse("departures:handover-reassign", args=[handover.pk]), {"to_user": other_rep.pk}
    )
    assert response.status_code == 302
    assert "Choose an active colleague" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    handover.refresh_from_db()
    assert handover.to_user == leaving.manager


def test_handover_reassign_is_404_out_of_scope_405_on_get_and_refused_to_the_successor(client, leaving, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    url = reverse("departures:handover-reassign", args=[handover.pk])
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
    response = client.get(reverse("departures:handover-list"))
    assert [h.pk for h in response.context["page"]] == [handover.pk]
    assert client.get(handover.coach.get_absolute_url()).status_code == 200
    assert client.post(reverse("departures:handover-list")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_my_handovers_query_count_does_not_grow_with_rows(client, leaving, rows, django_assert_num_queries):
    successor = factories.RepFactory(manager=leaving.manager)
    for _ in range(rows):
        factories.HandoverFactory(coach=coach_of(leaving), to_user=successor)
    client.force_login(successor)
    # session, user, count, the page with coach, account, contact and from-user joined and the
    # holds/touched checks as EXISTS (an N+1 on any of them would add a query per row), unread badge.
    with django_assert_num_queries(5):
        response = client.get(reverse("departures:handover-list"))
    assert response.status_code == 200
