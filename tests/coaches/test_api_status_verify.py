"""Issue 15: the coach page's status change and verification have API counterparts."""

import datetime

import pytest
from django.utils import timezone

from coaches.models import Coach
from tests import factories


@pytest.fixture
def coach(rep):
    return factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=rep)


def test_status_ends_the_coach_with_the_reason(token_client, rep, coach):
    response = token_client(rep).post(
        f"/api/v1/coaches/{coach.pk}/status/", {"status": "ended", "reason": "Retired"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_reason"]) == ("ended", "Retired")


def test_status_without_a_reason_is_400_on_the_field(token_client, rep, coach):
    response = token_client(rep).post(f"/api/v1/coaches/{coach.pk}/status/", {"status": "lapsed"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    coach.refresh_from_db()
    assert coach.is_active


def test_an_impossible_transition_is_409(token_client, rep, coach):
    coach.status = Coach.Status.ENDED
    coach.save()
    response = token_client(rep).post(f"/api/v1/coaches/{coach.pk}/status/", {"status": "active"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_an_unknown_status_is_400(token_client, rep, coach):
    response = token_client(rep).post(f"/api/v1/coaches/{coach.pk}/status/", {"status": "gone"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["fields"]


def test_status_of_a_coach_out_of_scope_is_404(token_client, other_rep, coach):
    response = token_client(other_rep).post(
        f"/api/v1/coaches/{coach.pk}/status/", {"status": "ended", "reason": "x"}, format="json"
    )
    assert response.status_code == 404


def test_verify_confirms_today_and_corrects_the_criteria(token_client, rep, coach):
    old = timezone.localdate() - datetime.timedelta(days=100)
    Coach.objects.filter(pk=coach.pk).update(last_verified_on=old, unconfirmed=True)
    response = token_client(rep).post(f"/api/v1/coaches/{coach.pk}/verify/", {"trusts_us": False}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["last_verified_on"] == timezone.localdate().isoformat()
    assert (body["trusts_us"], body["credible"], body["unconfirmed"]) == (False, True, False)


def test_verify_refuses_an_ended_coach(token_client, rep, coach):
    coach.status = Coach.Status.ENDED
    coach.save()
    response = token_client(rep).post(f"/api/v1/coaches/{coach.pk}/verify/", {}, format="json")
    assert response.status_code == 400
