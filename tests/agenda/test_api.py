"""/api/v1/tasks/, /api/v1/today/, /api/v1/touches/ and the coach's cadence action: same services, same scope."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.models import Task
from tests import factories


def _days(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def test_task_create_defaults_to_me_and_today(token_client, rep):
    response = token_client(rep).post(reverse("api:task-list"), {"subject": "Call Ann"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["owner"], body["due_on"], body["done"]) == (rep.pk, timezone.localdate().isoformat(), False)


def test_task_create_for_another_rep_is_refused_with_a_json_error(token_client, rep, other_rep, manager):
    response = token_client(rep).post(reverse("api:task-list"), {"subject": "x", "owner": manager.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["fields"]
    # Another team's rep "does not exist" for the user.
    response = token_client(rep).post(reverse("api:task-list"), {"subject": "x", "owner": other_rep.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["fields"]


def test_manager_assigns_through_the_api(token_client, manager, rep):
    response = token_client(manager).post(
        reverse("api:task-list"), {"subject": "Meet", "owner": rep.pk, "due_on": "2030-01-02"}, format="json"
    )
    assert response.status_code == 201
    assert Task.objects.get().owner == rep


def test_task_list_filters_and_scope(token_client, rep, other_rep):
    due = factories.TaskFactory(owner=rep, due_on=_days(1))
    factories.TaskFactory(owner=rep, due_on=_days(-5))
    done = factories.TaskFactory(owner=rep, done_at=timezone.now())
    factories.TaskFactory(owner=other_rep)
    client = token_client(rep)
    ids = lambda params: [row["id"] for row in client.get(reverse("api:task-list"), params).json()["results"]]  # noqa: E731
    assert ids({"due": timezone.localdate().isoformat()}) == [due.pk]
    assert ids({"done": "true"}) == [done.pk]
    assert len(ids({})) == 3


def test_another_reps_task_is_404(token_client, rep, other_rep):
    task = factories.TaskFactory(owner=other_rep)
    client = token_client(rep)
    assert client.get(reverse("api:task-detail", args=[task.pk])).status_code == 404
    assert client.post(reverse("api:task-done", args=[task.pk]), format="json").status_code == 404
    assert client.patch(reverse("api:task-detail", args=[task.pk]), {"subject": "x"}, format="json").status_code == 404


def test_task_done_and_update(token_client, rep):
    task = factories.TaskFactory(owner=rep)
    client = token_client(rep)
    assert client.post(reverse("api:task-done", args=[task.pk]), format="json").json()["done"] is True
    assert client.post(reverse("api:task-done", args=[task.pk]), {"done": False}, format="json").json()["done"] is False
    response = client.patch(reverse("api:task-detail", args=[task.pk]), {"subject": "Renamed"}, format="json")
    assert response.json()["subject"] == "Renamed"
    assert client.delete(reverse("api:task-detail", args=[task.pk])).status_code == 405


def test_today_answers_the_sections(token_client, rep):
    task = factories.TaskFactory(owner=rep, due_on=_days(2))
    coach = factories.CoachFactory(holder=rep, strength="champion", last_interaction_on=_days(20))
    body = token_client(rep).get(reverse("api:today")).json()
    assert [row["id"] for row in body["tasks"]] == [task.pk]
    assert [row["id"] for row in body["touches"]] == [coach.pk]
    assert body["more"]["tasks"] is False


def test_touch_with_next_step(token_client, rep, other_rep):
    coach = factories.CoachFactory(holder=rep)
    client = token_client(rep)
    response = client.post(
        reverse("api:touches"), {"coach": coach.pk, "kind": "call", "next_step": "Send deck"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["task"]["subject"] == "Send deck"
    theirs = factories.CoachFactory(holder=other_rep)
    response = client.post(reverse("api:touches"), {"coach": theirs.pk, "kind": "call"}, format="json")
    assert response.status_code == 400 and "coach" in response.json()["fields"]


@pytest.mark.parametrize(("value", "status"), [(7, 200), (None, 200), (0, 400)])
def test_coach_cadence_action(token_client, rep, value, status):
    coach = factories.CoachFactory(holder=rep)
    response = token_client(rep).post(
        reverse("api:coach-cadence", args=[coach.pk]), {"cadence_days": value}, format="json"
    )
    assert response.status_code == status, response.json()
    if status == 200:
        assert response.json()["cadence"] == (value or 21)


def test_digest_preference_reads_and_sets_the_users_own_opt_out(token_client, rep, other_rep):
    client = token_client(rep)
    assert client.get(reverse("api:digest")).json() == {"opt_out": False}
    response = client.put(reverse("api:digest"), {"opt_out": True}, format="json")
    assert response.status_code == 200 and response.json() == {"opt_out": True}
    assert client.get(reverse("api:digest")).json() == {"opt_out": True}
    assert token_client(other_rep).get(reverse("api:digest")).json() == {"opt_out": False}  # his own only
    assert client.put(reverse("api:digest"), {"opt_out": False}, format="json").json() == {"opt_out": False}


def test_digest_preference_refuses_a_bad_body_and_other_methods(token_client, rep):
    client = token_client(rep)
    response = client.put(reverse("api:digest"), {"opt_out": "maybe"}, format="json")
    assert response.status_code == 400 and "opt_out" in response.json()["fields"]
    response = client.put(reverse("api:digest"), {"opt_out": True, "user": 1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "unknown_field"
    assert client.post(reverse("api:digest"), {"opt_out": True}, format="json").status_code == 405
    assert client.get(reverse("api:digest")).json() == {"opt_out": False}


def test_agenda_writes_refuse_fields_they_would_ignore(token_client, rep):
    # Strict like every resource (tests/coachcrm/test_strict_writes.py): a field the endpoint does
    # not take is a 400 naming it, and nothing is written.
    task = factories.TaskFactory(owner=rep)
    coach = factories.CoachFactory(holder=rep)
    client = token_client(rep)
    for url, body, extra in (
        (reverse("api:task-done", args=[task.pk]), {"done": True}, "owner"),
        (reverse("api:touches"), {"coach": coach.pk, "kind": "call"}, "strength"),
        (reverse("api:notes"), {"account": coach.account_id, "text": "Hi"}, "by"),
    ):
        response = client.post(url, {**body, extra: 1}, format="json")
        assert response.status_code == 400, url
        assert response.json()["code"] == "unknown_field" and list(response.json()["fields"]) == [extra]
    task.refresh_from_db()
    assert task.done_at is None
    assert not coach.interactions.exists()
    response = client.get(reverse("api:search"), {"q": "ann", "limit": 5})
    assert response.status_code == 400 and list(response.json()["fields"]) == ["limit"]


def test_search_takes_the_format_parameter_and_refuses_other_unknown_ones(token_client, rep):
    # `?format=json` is DRF's own (any endpoint takes it); `limit` is not a search parameter.
    client = token_client(rep)
    assert client.get(reverse("api:search"), {"q": "ann", "format": "json"}).status_code == 200
    response = client.get(reverse("api:search"), {"q": "ann", "limit": 5})
    assert response.status_code == 400 and list(response.json()["fields"]) == ["limit"]


def test_task_list_owner_filter_for_a_manager(token_client, manager, rep):
    reps = factories.TaskFactory(owner=rep)
    own = factories.TaskFactory(owner=manager)
    client = token_client(manager)
    ids = lambda params: [row["id"] for row in client.get(reverse("api:task-list"), params).json()["results"]]  # noqa: E731
    assert ids({"owner": rep.pk}) == [reps.pk]
    assert ids({"owner": manager.pk}) == [own.pk]
    assert sorted(ids({})) == sorted([reps.pk, own.pk])


def test_today_api_sections_in_the_pages_order(token_client, rep, stages):
    account = factories.AccountFactory(owner=rep)
    handover = factories.HandoverFactory(coach=factories.CoachFactory(), to_user=rep, due_on=_days(-1))
    held = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"], held_back=True)
    late = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Lead"], expected_close=_days(3))
    body = token_client(rep).get(reverse("api:today")).json()
    assert list(body) == ["day", "tasks", "touches", "verify", "handovers", "held_back", "past_close", "more"]
    assert [row["id"] for row in body["handovers"]] == [handover.pk]
    assert [row["id"] for row in body["held_back"]] == [held.pk]
    assert [row["id"] for row in body["past_close"]] == [late.pk]


@pytest.mark.parametrize("rows", [1, 50])
def test_today_api_query_count_is_fixed(token_client, rep, stages, rows, django_assert_num_queries):
    account = factories.AccountFactory(owner=rep)
    for index in range(rows):
        coach = factories.CoachFactory(holder=rep, account=account, strength="champion", last_interaction_on=_days(20))
        factories.TaskFactory(owner=rep, due_on=_days(1), coach=coach)
        factories.OpportunityFactory(
            account=account, owner=rep, stage=stages["Lead"], held_back=True, expected_close=_days(index + 1)
        )
    client = token_client(rep)
    # Two token look-ups (knox), then one query per section with what its rows show joined (an N+1
    # in a serializer would add one per row).
    with django_assert_num_queries(8):
        response = client.get(reverse("api:today"))
    assert len(response.json()["tasks"]) == min(rows, 20)


def test_contact_timeline_api_and_scope(token_client, rep, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    coach = factories.CoachFactory(account=account, holder=other_rep)
    factories.InteractionFactory(coach=coach, user=other_rep, note="Private")
    url = reverse("api:contact-timeline", args=[coach.contact_id])
    body = token_client(other_rep).get(url).json()
    assert "touch" in {row["kind"] for row in body["results"]}
    assert token_client(rep).get(url).status_code == 404
