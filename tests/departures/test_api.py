"""The departure API: the depart action of the users resource, and handovers."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from team.models import User
from tests import factories

# --- the depart action of /users/ -----------------------------------------------------------


def _depart(client, user, day=None):
    day = day or timezone.localdate() + datetime.timedelta(days=14)
    return client.post(reverse("api:user-depart", args=[user.pk]), {"departure_date": day.isoformat()}, format="json")


def test_manager_starts_his_reps_departure_with_202(token_client, rep, manager):
    response = _depart(token_client(manager), rep)
    assert response.status_code == 202
    assert response.json()["status"] == "leaving"
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING


@pytest.mark.django_db(transaction=True)
def test_a_departure_started_with_the_broker_down_says_its_jobs_are_delayed(token_client, rep, manager, fake_broker):
    # Transactional: the relay runs on the real commit, inside the request.
    fake_broker.down = True
    response = _depart(token_client(manager), rep)
    assert response.status_code == 202
    assert response.json()["status"] == "leaving" and response.json()["jobs_delayed"] is True
    fake_broker.down = False


def test_rep_cannot_depart_anyone_403(token_client, rep, manager):
    colleague = factories.RepFactory(manager=manager)
    # His manager is visible to a rep, so this is a role refusal, not a scope one.
    assert _depart(token_client(rep), manager).status_code == 403
    assert _depart(token_client(rep), colleague).status_code == 404
    manager.refresh_from_db()
    assert manager.status == User.Status.ACTIVE


def test_manager_of_another_team_gets_404(token_client, other_rep):
    stranger = factories.ManagerFactory()
    assert _depart(token_client(stranger), other_rep).status_code == 404


def test_departure_in_the_past_is_a_field_error(token_client, rep, manager):
    response = _depart(token_client(manager), rep, timezone.localdate() - datetime.timedelta(days=1))
    assert response.status_code == 400
    assert "departure_date" in response.json()["fields"]


def test_manager_cancels_a_departure_rep_403_stranger_404(token_client, rep, manager):
    _depart(token_client(manager), rep)
    url = reverse("api:user-depart-cancel", args=[rep.pk])
    assert token_client(rep).post(url).status_code == 403
    assert token_client(factories.ManagerFactory()).post(url).status_code == 404
    response = token_client(manager).post(url)
    assert response.status_code == 200 and response.json()["status"] == "active"
    # Twice is harmless; a departed rep's departure is not undone.
    assert token_client(manager).post(url).status_code == 200
    User.objects.filter(pk=rep.pk).update(status=User.Status.DEPARTED, departure_date=timezone.localdate())
    response = token_client(manager).post(url)
    assert response.status_code == 400 and "already departed" in response.json()["detail"]


# --- handovers ------------------------------------------------------------------------------


def test_manager_reassigns_a_handover_within_his_team(token_client, rep, manager):
    handover = factories.HandoverFactory(coach=factories.CoachFactory(account=factories.AccountFactory(owner=rep)))
    successor = factories.RepFactory(manager=manager)
    url = reverse("api:handover-reassign", args=[handover.pk])
    assert token_client(rep).post(url, {"to_user": successor.pk}, format="json").status_code == 403
    outsider = factories.RepFactory()
    response = token_client(manager).post(url, {"to_user": outsider.pk}, format="json")
    assert response.status_code == 400
    response = token_client(manager).post(url, {"to_user": successor.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["to_user"] == successor.pk


def test_handover_reassign_is_403_for_whoever_may_not_manage_the_leaving_rep(token_client, rep, manager):
    successor = factories.RepFactory(manager=factories.ManagerFactory())
    handover = factories.HandoverFactory(
        coach=factories.CoachFactory(account=factories.AccountFactory(owner=rep)), from_user=rep, to_user=successor
    )
    url = reverse("api:handover-reassign", args=[handover.pk])
    # Both see the handover (the leaving rep himself; the successor's manager), neither manages rep.
    for user in (rep, successor.manager):
        response = token_client(user).post(url, {"to_user": successor.pk}, format="json")
        assert response.status_code == 403, user
        assert response.json() == {
            "code": "permission_denied",
            "detail": "Only the leaving rep's manager or an admin can reassign a handover.",
        }
    handover.refresh_from_db()
    assert handover.to_user == successor
    assert token_client(factories.AdminFactory()).post(url, {"to_user": manager.pk}, format="json").status_code == 200


def test_handover_out_of_scope_is_404(token_client, other_rep):
    handover = factories.HandoverFactory(
        coach=factories.CoachFactory(account=factories.AccountFactory(owner=other_rep))
    )
    assert (
        token_client(factories.ManagerFactory()).get(reverse("api:handover-detail", args=[handover.pk])).status_code
        == 404
    )


@pytest.mark.parametrize("rows", [1, 50])
def test_handover_list_query_count_does_not_grow_with_rows(token_client, rep, manager, rows, django_assert_num_queries):
    client = token_client(manager)
    for _ in range(rows):
        factories.HandoverFactory(coach=factories.CoachFactory(account=factories.AccountFactory(owner=rep)))
    # token with its user, his other tokens (knox sweeps the expired ones), count, the page with
    # coach, account and contact joined: an N+1 on the coach's name would add queries per row.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:handover-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows
