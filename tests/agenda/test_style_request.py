"""Asking a coach for a person's buying style: a task for the coach's holder, once, closed by the report."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agenda import services
from agenda.models import Task
from coaches.services import coach_set_status, style_report_record
from team.models import Notification
from tests import factories


@pytest.fixture
def holder(db):
    return factories.RepFactory()


@pytest.fixture
def coach(rep, holder):
    """A coach at the rep's account, held (primary) by another rep and, second, by the rep."""
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep), holder=holder)
    factories.HolderFactory(coach=coach, user=rep)
    return coach


@pytest.fixture
def buyer(coach):
    return factories.person_at(coach.account)


def test_style_request_gives_the_primary_holder_a_task_and_a_notice(coach, buyer, holder):
    asker = factories.ManagerFactory()
    task, created = services.style_request(by=asker, coach=coach, contact=buyer)
    assert created and (task.owner, task.created_by, task.kind) == (holder, asker, "style_request")
    assert (task.coach, task.contact, task.account_id) == (coach, buyer, coach.account_id)
    assert str(buyer) in task.subject and str(coach.contact) in task.subject
    assert Notification.objects.get().user == holder


def test_style_request_by_a_holder_is_his_own_task_without_a_notice(rep, coach, buyer):
    task, created = services.style_request(by=rep, coach=coach, contact=buyer)
    assert created and task.owner == rep and not Notification.objects.exists()


def test_style_request_twice_returns_the_open_task(rep, coach, buyer, holder):
    first, created = services.style_request(by=rep, coach=coach, contact=buyer)
    again, created_again = services.style_request(by=factories.ManagerFactory(), coach=coach, contact=buyer)
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Task.objects.count() == 1
    # Done, it may be asked again.
    services.task_set_done(task=first, by=rep)
    assert services.style_request(by=rep, coach=coach, contact=buyer)[1] is True


def test_style_request_is_closed_by_the_coach_reporting_the_style(rep, coach, buyer):
    task, _ = services.style_request(by=rep, coach=coach, contact=buyer)
    other = services.style_request(by=rep, coach=coach, contact=factories.person_at(coach.account))[0]
    style_report_record(by=rep, contact=buyer, coach=coach, style="driver", confidence="high")
    task.refresh_from_db()
    other.refresh_from_db()
    assert task.is_done and not other.is_done


def test_style_request_refuses_a_person_elsewhere_an_ended_coach_and_a_deal_elsewhere(rep, coach, buyer, stages):
    stranger = factories.person_at(factories.AccountFactory(owner=rep))
    with pytest.raises(ValidationError):
        services.style_request(by=rep, coach=coach, contact=stranger)
    elsewhere = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep))
    with pytest.raises(ValidationError) as refused:
        services.style_request(by=rep, coach=coach, contact=buyer, opportunity=elsewhere)
    assert "opportunity" in refused.value.message_dict
    coach_set_status(coach=coach, by=rep, status="ended", reason="left")
    with pytest.raises(ValidationError):
        services.style_request(by=rep, coach=coach, contact=buyer)
    assert not Task.objects.exists()


def test_style_request_without_a_holder_is_refused(rep, coach, buyer):
    coach.holders.all().delete()
    with pytest.raises(ValidationError) as refused:
        services.style_request(by=rep, coach=coach, contact=buyer)
    assert "coach" in refused.value.message_dict


# --- page and API -----------------------------------------------------------------------------


def test_style_request_page_asks_once_and_redirects_back(rep_client, rep, coach, buyer):
    url = reverse("agenda:style-request")
    data = {"coach": coach.pk, "contact": buyer.pk, "next": "/accounts/#committee"}
    first = rep_client.post(url, data)
    assert first.status_code == 302 and first["Location"] == "/accounts/#committee"
    rep_client.post(url, data)
    assert Task.objects.get().owner == rep  # he holds the coach himself


def test_style_request_page_of_a_coach_you_may_not_see_changes_nothing(client, other_rep, coach, buyer):
    client.force_login(other_rep)
    response = client.post(reverse("agenda:style-request"), {"coach": coach.pk, "contact": buyer.pk})
    assert response.status_code == 302 and not Task.objects.exists()


def test_style_request_page_takes_only_post(rep_client):
    assert rep_client.get(reverse("agenda:style-request")).status_code == 405


def test_style_request_api_201_then_200_and_strict(rep_client, rep, coach, buyer, holder):
    url = "/api/v1/tasks/style-request/"
    body = {"coach": coach.pk, "contact": buyer.pk}
    first = rep_client.post(url, body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["owner"] == rep.pk
    again = rep_client.post(url, body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    unknown = rep_client.post(url, {**body, "owner": holder.pk}, content_type="application/json")
    assert unknown.status_code == 400
    elsewhere = rep_client.post(
        url, {**body, "contact": factories.person_at(factories.AccountFactory()).pk}, content_type="application/json"
    )
    assert elsewhere.status_code == 400 and elsewhere["Content-Type"].startswith("application/json")


def test_committee_gap_offers_to_ask_the_coach(rep_client, rep, coach, stages):
    deal = factories.OpportunityFactory(account=coach.account, owner=rep)
    factories.OpportunityContactFactory(opportunity=deal, role="economic_buyer")
    body = rep_client.get(deal.get_absolute_url()).content.decode()
    assert 'data-testid="style-request"' in body and reverse("agenda:style-request") in body
