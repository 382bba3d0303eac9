"""Timelines of accounts, people and deals: every source, newest first, touches only for who sees the coach."""

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda import selectors, services
from agenda.models import Note
from tests import factories


@pytest.fixture
def world(rep, other_rep, stages):
    """An account rep owns, where other_rep holds the coach (so rep sees the account but not the coach)."""
    account = factories.AccountFactory(owner=rep, name="Kestrel Capital")
    coach = factories.CoachFactory(account=account, holder=other_rep)
    touch = factories.InteractionFactory(coach=coach, user=other_rep, kind="call", note="Secret insight")
    deal = factories.OpportunityFactory(account=account, owner=rep, stage=stages["Qualified"], name="Fleet renewal")
    factories.StageChangeFactory(opportunity=deal, to_stage=stages["Qualified"])
    grant = factories.GrantFactory(account=account, rep=rep)
    task = factories.TaskFactory(owner=rep, account=account, subject="Sent the deck", done_at=timezone.now())
    note = services.note_add(by=rep, text="Budget cycle starts in April", account=account)
    return {
        "account": account,
        "coach": coach,
        "touch": touch,
        "deal": deal,
        "grant": grant,
        "task": task,
        "note": note,
    }


def _kinds(entries):
    return {entry["kind"] for entry in entries}


def test_account_timeline_shows_every_source_but_hides_coach_touches_from_non_holders(rep, world):
    entries = selectors.timeline(user=rep, account=world["account"])
    assert _kinds(entries) == {"stage", "grant", "task", "job", "note"}
    assert not any("Secret insight" in entry["detail"] for entry in entries)
    assert entries == sorted(entries, key=lambda entry: entry["at"], reverse=True)


def test_account_timeline_shows_the_touches_to_the_coachs_holder(other_rep, world):
    # other_rep holds the coach, so he sees the account (held) and the touch.
    entries = selectors.timeline(user=other_rep, account=world["account"])
    assert any(entry["kind"] == "touch" and entry["detail"] == "Secret insight" for entry in entries)


def test_contact_and_opportunity_timelines(other_rep, rep, world):
    contact = world["coach"].contact
    assert "touch" in _kinds(selectors.timeline(user=other_rep, contact=contact))
    assert "touch" not in _kinds(selectors.timeline(user=rep, contact=contact))
    services.note_add(by=rep, text="Wants a pilot first", opportunity=world["deal"])
    assert {"stage", "note"} <= _kinds(selectors.timeline(user=rep, opportunity=world["deal"]))


def test_timeline_page_404_out_of_scope_and_unknown_kind(client, world, db):
    stranger = factories.RepFactory()
    client.force_login(stranger)
    assert client.get(reverse("agenda:timeline", args=["account", world["account"].pk])).status_code == 404
    assert client.get(reverse("agenda:timeline", args=["grant", world["grant"].pk])).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_timeline_query_count_is_fixed(rep_client, rep, stages, rows, django_assert_num_queries):
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep)
    for _ in range(rows):
        factories.InteractionFactory(coach=coach, user=rep)
        factories.StageChangeFactory(opportunity=factories.OpportunityFactory(account=account, stage=stages["Lead"]))
        services.note_add(by=rep, text="x", account=account)
    # session, user, the record, one query per source (touches with user and coach person, stage
    # changes with deal, stage and mover, grants, tasks, positions, notes with author: an N+1 on
    # any would add a query per entry).
    with django_assert_num_queries(9):
        response = rep_client.get(
            reverse("agenda:timeline", args=["account", account.pk]), headers={"HX-Request": "true"}
        )
    assert len(response.context["entries"]) == min(selectors.TIMELINE_LIMIT, rows * 3 + 1)


def test_note_add_page_and_errors(rep_client, rep, world):
    url = reverse("agenda:note-create", args=["contact", world["coach"].contact.pk])
    response = rep_client.post(url, {"text": "Prefers e-mail"})
    assert response.status_code == 302
    assert Note.objects.filter(contact=world["coach"].contact, text="Prefers e-mail").exists()
    rep_client.post(url, {"text": "   "})
    assert Note.objects.count() == 2  # the blank one was refused
    assert rep_client.get(url).status_code == 405


def test_account_page_loads_the_timeline(rep_client, world):
    page = rep_client.get(world["account"].get_absolute_url()).content.decode()
    assert reverse("agenda:timeline", args=["account", world["account"].pk]) in page


def test_timeline_and_note_api(token_client, rep, world):
    client = token_client(rep)
    body = client.get(reverse("api:account-timeline", args=[world["account"].pk])).json()
    assert {row["kind"] for row in body["results"]} == {"stage", "grant", "task", "job", "note"}
    assert client.get(reverse("api:opportunity-timeline", args=[world["deal"].pk])).status_code == 200
    response = client.post(
        reverse("api:notes"), {"opportunity": world["deal"].pk, "text": "Call after Easter"}, format="json"
    )
    assert response.status_code == 201
    response = client.post(reverse("api:notes"), {"text": "On nothing"}, format="json")
    assert response.status_code == 400
    stranger = factories.RepFactory()
    assert token_client(stranger).get(reverse("api:account-timeline", args=[world["account"].pk])).status_code == 404
