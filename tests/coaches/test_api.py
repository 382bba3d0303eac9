import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coaches.models import Coach, Interaction
from tests import factories


def test_coach_list_is_scoped_and_filtered(token_client, rep, other_rep):
    mine = factories.CoachFactory(account=factories.AccountFactory(owner=rep), at_risk=True)
    factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    factories.CoachFactory(account=factories.AccountFactory(owner=other_rep), at_risk=True)
    response = token_client(rep).get(reverse("api:coach-list"), {"at_risk": "true", "status": "active"})
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]
    assert response.json()["results"][0]["holders"][0]["user"] == rep.pk


def test_coach_out_of_scope_is_404(token_client, rep, other_rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep))
    assert token_client(rep).get(reverse("api:coach-detail", args=[coach.pk])).status_code == 404


def test_record_a_coach_goes_through_the_service_and_refuses_status(token_client, rep):
    account = factories.AccountFactory(owner=rep)
    contact = factories.person_at(account)
    client = token_client(rep)
    body = {"account": account.pk, "contact": contact.pk, "strength": "champion"}
    response = client.post(reverse("api:coach-list"), {**body, "status": "ended", "at_risk": True}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "at_risk"}
    response = client.post(reverse("api:coach-list"), body, format="json")
    assert response.status_code == 201, response.json()
    coach = Coach.objects.get(pk=response.json()["id"])
    assert (coach.status, coach.at_risk, coach.strength) == ("active", False, "champion")
    assert coach.holders.get().user == rep


def test_record_a_second_active_coach_for_a_person_is_refused(token_client, rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    response = token_client(rep).post(
        reverse("api:coach-list"), {"account": coach.account.pk, "contact": coach.contact.pk}, format="json"
    )
    assert response.status_code == 400
    assert Coach.objects.count() == 1


def test_update_verifies_the_criteria_and_leaves_the_account(token_client, rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep), has_power=False)
    other = factories.AccountFactory(owner=rep)
    client = token_client(rep)
    url = reverse("api:coach-detail", args=[coach.pk])
    response = client.patch(url, {"has_power": True, "account": other.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"account": ["This field cannot be set here."]}
    response = client.patch(url, {"has_power": True, "account": coach.account_id}, format="json")
    assert response.status_code == 200
    coach.refresh_from_db()
    assert (coach.has_power, coach.account_id, coach.last_verified_on) == (True, coach.account_id, timezone.localdate())
    assert coach.account_id != other.pk


@pytest.mark.parametrize("rows", [1, 50])
def test_coach_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    client = token_client(rep)
    for _ in range(rows):
        factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    # token with its user, his other tokens (knox sweeps the expired ones), count, the page with
    # account and contact joined, one prefetch of the holders with their users: an N+1 on account,
    # contact or holders would add queries per row.
    with django_assert_num_queries(5):
        response = client.get(reverse("api:coach-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_log_an_interaction_keeps_the_last_touch(token_client, rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    day = timezone.localdate() - datetime.timedelta(days=2)
    client = token_client(rep)
    body = {"coach": coach.pk, "kind": "meeting", "occurred_on": day.isoformat()}
    response = client.post(reverse("api:interaction-list"), {**body, "user": 999}, format="json")
    assert response.json()["code"] == "read_only_field"
    response = client.post(reverse("api:interaction-list"), {**body, "user": rep.pk}, format="json")
    assert response.status_code == 201
    assert Interaction.objects.get().user == rep
    coach.refresh_from_db()
    assert coach.last_interaction_on == day


def test_log_an_interaction_with_a_coach_out_of_scope_is_refused(token_client, rep, other_rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep))
    response = token_client(rep).post(
        reverse("api:interaction-list"), {"coach": coach.pk, "kind": "meeting"}, format="json"
    )
    assert response.status_code == 400
    assert "coach" in response.json()["fields"]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize("rows", [1, 50])
def test_interaction_list_query_count_does_not_grow_with_rows(token_client, rep, rows, django_assert_num_queries):
    client = token_client(rep)
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    factories.InteractionFactory.create_batch(rows, coach=coach)
    # token with its user, his other tokens (knox sweeps the expired ones), count, the page: the user
    # is joined, not fetched per row.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:interaction-list"), {"page_size": 100})
    assert len(response.json()["results"]) == rows
