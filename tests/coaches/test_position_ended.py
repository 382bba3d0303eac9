"""Issue 15: a coach is at an account only while the person works there — every way a position ends."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from coaches import services
from coaches.models import Coach
from coaches.tasks import coaches_end_departed_task
from pipeline.models import StageChange
from tests import factories


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep, name="Acme")


@pytest.fixture
def coach(account, rep):
    person = factories.person_at(account, contact__first_name="Chen", contact__last_name="Okafor")
    return factories.CoachFactory(account=account, contact=person, holder=rep)


@pytest.fixture
def gated_deal(account, stages):
    return factories.OpportunityFactory(account=account, stage=stages["Negotiation"])


def _position(coach):
    return coach.contact.employments.get(account=coach.account, end_date__isnull=True)


def _assert_ended_and_sent_back(coach, deal, stages, day):
    coach.refresh_from_db()
    deal.refresh_from_db()
    assert coach.status == Coach.Status.ENDED
    assert coach.status_reason_display == f"Left Acme on {day:%m/%d/%Y}: his position there ended."
    assert deal.stage == stages["Qualified"] and deal.held_back
    assert deal.stage_changes.first().kind == StageChange.Kind.SENT_BACK


def test_ending_the_position_today_ends_the_coach_and_sends_the_deals_back(
    rep, coach, gated_deal, stages, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.employment_end(employment=_position(coach), end_date=today, by=rep)
    _assert_ended_and_sent_back(coach, gated_deal, stages, today)


def test_a_win_after_the_position_ended_is_refused(rep, coach, gated_deal, stages, django_capture_on_commit_callbacks):
    from pipeline import services as pipeline_services

    with django_capture_on_commit_callbacks(execute=True):
        account_services.employment_end(employment=_position(coach), end_date=timezone.localdate(), by=rep)
    gated_deal.refresh_from_db()
    with pytest.raises(pipeline_services.GateError):
        pipeline_services.opportunity_move(opportunity=gated_deal, stage=stages["Won"], by=rep)


def test_a_future_end_date_ends_the_coach_on_that_day_by_the_periodic_job(
    rep, coach, gated_deal, stages, django_capture_on_commit_callbacks
):
    day = timezone.localdate() + datetime.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.employment_end(employment=_position(coach), end_date=day, by=rep)
    coach.refresh_from_db()
    assert coach.is_active
    with django_capture_on_commit_callbacks(execute=True):
        assert coaches_end_departed_task() == 0  # still there until the day
    with time_machine.travel(timezone.now() + datetime.timedelta(days=10)):
        with django_capture_on_commit_callbacks(execute=True):
            assert coaches_end_departed_task() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert coaches_end_departed_task() == 0  # a second run ends nothing
    _assert_ended_and_sent_back(coach, gated_deal, stages, day)


def test_a_second_coach_keeps_the_deals_where_they_are(
    rep, coach, gated_deal, stages, django_capture_on_commit_callbacks
):
    factories.CoachFactory(account=coach.account)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.employment_end(employment=_position(coach), end_date=timezone.localdate(), by=rep)
    coach.refresh_from_db()
    gated_deal.refresh_from_db()
    assert coach.status == Coach.Status.ENDED and gated_deal.stage == stages["Negotiation"]


def test_ending_the_position_tells_the_holders(rep, coach, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account_services.employment_end(employment=_position(coach), end_date=timezone.localdate(), by=rep)
    assert rep.notifications.filter(message__contains="left their company").exists()


def test_the_page_ends_the_coach(rep_client, coach, gated_deal, stages, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(
            reverse("accounts:employment-end", args=[_position(coach).pk]), {"end_date": today.isoformat()}
        )
    assert response.status_code == 302
    _assert_ended_and_sent_back(coach, gated_deal, stages, today)


def test_the_page_asks_before_ending_a_position(rep_client, coach):
    page = rep_client.get(coach.contact.get_absolute_url()).content.decode()
    assert reverse("accounts:employment-end", args=[_position(coach).pk]) in page
    assert 'data-confirm="End this position at Acme? If this person is our coach there' in page


def test_the_api_ends_the_coach(token_client, rep, coach, gated_deal, stages, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(rep).post(
            reverse("api:contact-end-position", args=[coach.contact_id, _position(coach).pk]),
            {"end_date": today.isoformat()},
        )
    assert response.status_code == 200
    _assert_ended_and_sent_back(coach, gated_deal, stages, today)


def test_the_admin_employment_form_ends_the_coach(
    admin_client, coach, gated_deal, stages, django_capture_on_commit_callbacks
):
    position = _position(coach)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:accounts_employment_change", args=[position.pk]),
            {
                "title": position.title,
                "function": position.function,
                "seniority": position.seniority,
                "end_date": today.isoformat(),
            },
        )
    assert response.status_code == 302
    _assert_ended_and_sent_back(coach, gated_deal, stages, today)


def test_the_admin_employment_form_shows_a_refusal_as_a_form_error(admin_client, coach):
    position = _position(coach)
    response = admin_client.post(
        reverse("admin:accounts_employment_change", args=[position.pk]),
        {
            "title": position.title,
            "function": position.function,
            "seniority": position.seniority,
            "end_date": (position.start_date - datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert b"The end date cannot be before the start date" in response.content
    position.refresh_from_db()
    coach.refresh_from_db()
    assert position.end_date is None and coach.is_active


INLINE = {
    "employments-TOTAL_FORMS": "1",
    "employments-INITIAL_FORMS": "1",
    "employments-MIN_NUM_FORMS": "0",
    "employments-MAX_NUM_FORMS": "1000",
}


def test_the_admin_contact_form_saves_through_the_service(admin_client, coach):
    other = factories.ContactFactory(email="taken@example.com")
    INLINE["employments-0-id"] = str(_position(coach).pk)
    INLINE["employments-0-contact"] = str(coach.contact_id)
    response = admin_client.post(
        reverse("admin:accounts_contact_change", args=[coach.contact_id]),
        {"first_name": "Chen", "last_name": "Okafor", "email": other.email.upper(), "phone": "", "notes": "", **INLINE},
    )
    assert response.status_code == 200
    assert b"already exists" in response.content
    response = admin_client.post(
        reverse("admin:accounts_contact_change", args=[coach.contact_id]),
        {"first_name": "Chen ", "last_name": "Okafor", "email": "Chen@Example.com", "phone": "", "notes": "", **INLINE},
    )
    assert response.status_code == 302
    coach.contact.refresh_from_db()
    assert coach.contact.email == "chen@example.com"


def test_the_admin_contact_form_cannot_end_a_position_around_the_service(admin_client, coach):
    # The positions inline is read-only: an end date posted there is ignored (the employment form ends it).
    position = _position(coach)
    inline = {**INLINE, "employments-0-id": str(position.pk), "employments-0-contact": str(coach.contact_id)}
    inline["employments-0-end_date"] = timezone.localdate().isoformat()
    response = admin_client.post(
        reverse("admin:accounts_contact_change", args=[coach.contact_id]),
        {"first_name": "Chen", "last_name": "Okafor", "email": "", "phone": "", "notes": "", **inline},
    )
    assert response.status_code == 302
    assert (
        b'name="employments-0-end_date"'
        not in admin_client.get(reverse("admin:accounts_contact_change", args=[coach.contact_id])).content
    )
    position.refresh_from_db()
    coach.refresh_from_db()
    assert position.end_date is None and coach.is_active


def test_the_job_change_feed_ends_the_coach_as_moved(
    token_client, rep, coach, gated_deal, stages, django_capture_on_commit_callbacks
):
    factories.ProductLineFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(rep).post(
            reverse("api:job-changes"),
            {
                "changes": [
                    {
                        "contact": coach.contact_id,
                        "company": "Globex",
                        "title": "CIO",
                        "start_date": timezone.localdate().isoformat(),
                    }
                ]
            },
            format="json",
        )
    assert response.status_code == 200, response.content
    coach.refresh_from_db()
    gated_deal.refresh_from_db()
    assert coach.status == Coach.Status.ENDED and coach.status_reason_display == "moved to Globex"
    assert gated_deal.stage == stages["Qualified"]
    # The candidate record at the new company opens no gate until a holder verifies him.
    candidate = Coach.objects.get(contact=coach.contact, status=Coach.Status.ACTIVE)
    assert candidate.unconfirmed and candidate.missing_for("active") == ["unconfirmed"]
    services.coach_verify(coach=candidate, by=rep)
    candidate.refresh_from_db()
    assert not candidate.unconfirmed and candidate.missing_for("active") == []


def test_an_import_with_an_end_date_ends_the_coach(rep, coach, gated_deal, stages, django_capture_on_commit_callbacks):
    from csvio import services as csv_services

    coach.contact.email = "chen@acme.example"
    coach.contact.save()
    position = _position(coach)
    today = timezone.localdate()
    text = (
        "email,first_name,last_name,account,title,start_date,end_date\n"
        f"chen@acme.example,Chen,Okafor,Acme,{position.title},{position.start_date.isoformat()},{today.isoformat()}\n"
    )
    batch = csv_services.import_batch_create(by=rep, kind="contacts", filename="f.csv", data=text.encode())
    assert [r["outcome"] for r in batch.report["rows"]] == ["updated"]
    coach.refresh_from_db()
    assert coach.is_active  # the dry run writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        csv_services.import_batch_confirm(batch=batch, by=rep)
    _assert_ended_and_sent_back(coach, gated_deal, stages, today)


def test_an_import_cannot_end_a_new_persons_position(rep, account):
    from csvio import services as csv_services

    text = (
        "email,first_name,last_name,account,title,start_date,end_date\nn@x.example,N,P,Acme,CEO,2020-01-01,2024-01-01\n"
    )
    batch = csv_services.import_batch_create(by=rep, kind="contacts", filename="f.csv", data=text.encode())
    assert [(r["outcome"], r["column"]) for r in batch.report["rows"]] == [("error", "end_date")]
