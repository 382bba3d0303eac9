"""The events the services emit, end to end: a write through the API, a signed POST at the receiver."""

import json

import pytest

from tests import factories
from webhooks import services


@pytest.fixture
def hook(receiver, admin_user):
    return services.webhook_create(by=admin_user, url=receiver.url)  # every event


def _events(receiver) -> list[tuple[str, dict]]:
    return [(headers["X-CoachCRM-Event"], json.loads(body)["data"]) for headers, body in receiver.requests]


def test_ending_a_coach_through_the_api_sends_coach_ended_and_the_deals_sent_back(
    receiver, hook, token_client, rep, stages, django_capture_on_commit_callbacks
):
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep)
    deal = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client(rep).post(
            f"/api/v1/coaches/{coach.pk}/status/", {"status": "ended", "reason": "Retired"}, format="json"
        )
    assert response.status_code == 200, response.json()
    events = _events(receiver)
    names = [name for name, _data in events]
    assert names[0] == "coach.ended"
    assert "opportunity.sent_back" in names and "opportunity.held_back" in names
    ended = dict(events)["coach.ended"]
    assert (ended["coach"], ended["account"], ended["status"], ended["reason"]) == (
        coach.pk,
        account.pk,
        "ended",
        "Retired",
    )
    sent_back = dict(events)["opportunity.sent_back"]
    assert (sent_back["opportunity"], sent_back["from_stage"]) == (deal.pk, stages["Proposal"].pk)
    assert sent_back["stage"] == stages["Qualified"].pk
    assert sent_back["held_back"] is True


def test_winning_and_losing_send_their_events(
    receiver, hook, admin_user, stages, loss_reason, django_capture_on_commit_callbacks
):
    from pipeline import services as pipeline_services

    won = factories.OpportunityFactory(stage=stages["Negotiation"])
    lost = factories.OpportunityFactory(stage=stages["Lead"])
    with django_capture_on_commit_callbacks(execute=True):
        pipeline_services.opportunity_override(opportunity=won, stage=stages["Won"], by=admin_user, reason="signed")
        pipeline_services.opportunity_move(
            opportunity=lost, stage=stages["Lost"], by=admin_user, loss_reason=loss_reason
        )
    events = dict(_events(receiver))
    assert events["opportunity.won"]["opportunity"] == won.pk
    assert events["opportunity.lost"]["opportunity"] == lost.pk
    assert events["opportunity.won"]["amount"] == str(won.amount)


def test_a_grant_over_the_limit_is_pending_then_decided(
    receiver, hook, rep, manager, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from service_catalog import services as catalog_services

    catalog_services.authority_set(by=factories.AdminFactory(), role="rep", per_grant=Decimal("10"))
    account = factories.AccountFactory(owner=rep)
    item = factories.ServiceItemFactory(unit_cost=Decimal("400.00"))
    with django_capture_on_commit_callbacks(execute=True):
        grant = catalog_services.grant_request(
            by=rep,
            item=item,
            quantity=1,
            account=account,
            recipient=factories.person_at(account),
            reason="relationship",
        )
        catalog_services.grant_approve(grant=grant, by=manager)
    names = [name for name, _data in _events(receiver)]
    assert names[:1] == ["grant.pending"] and names[-1] == "grant.decided"
    assert dict(_events(receiver))["grant.decided"]["status"] == "approved"


def test_task_due_is_sent_once_per_task_and_due_date_across_runs(
    receiver, hook, rep, django_capture_on_commit_callbacks
):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from agenda import services as agenda_services

    today = timezone.localdate()
    account = factories.AccountFactory(owner=rep)
    coach = factories.CoachFactory(account=account, holder=rep)
    deal = factories.OpportunityFactory(account=account)
    due = factories.TaskFactory(owner=rep, subject="Call Dana", coach=coach, account=account, opportunity=deal)
    factories.TaskFactory(owner=rep, done_at=timezone.now())  # done: nothing to announce
    tomorrow = factories.TaskFactory(owner=rep, due_on=today + datetime.timedelta(days=1))  # open, not due yet
    # Past its day, and never announced (the job did not run then): the window's oldest day is
    # caught up once, a task older than the window is not announced late.
    missed = factories.TaskFactory(owner=rep, due_on=today - datetime.timedelta(days=3))
    factories.TaskFactory(owner=rep, due_on=today - datetime.timedelta(days=4))
    # Announced on its day already: not again.
    factories.TaskFactory(
        owner=rep, due_on=today - datetime.timedelta(days=1), due_event_on=today - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_scheduled", "agenda-tasks-due", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with django_capture_on_commit_callbacks(execute=True):
        assert agenda_services.tasks_due_emit() == 0  # the second run of the day sends nothing
    events = _events(receiver)
    late = {data["task"]: data for _name, data in events}
    assert len(events) == 2
    assert sorted(late) == sorted([due.pk, missed.pk])
    assert late[missed.pk]["due_on"] == missed.due_on.isoformat()  # a receiver sees it comes late
    assert [event for event in events if event[1]["task"] == due.pk] == [
        (
            "task.due",
            {
                "task": due.pk,
                "kind": "todo",
                "subject": "Call Dana",
                "due_on": today.isoformat(),
                "due_time": None,
                "owner": rep.pk,
                "owner_username": rep.username,
                "coach": coach.pk,
                "account": account.pk,
                "opportunity": deal.pk,
                "handover": None,
            },
        )
    ]
    # Tomorrow's task goes out tomorrow, once; moved to another day, a task is announced again then.
    with django_capture_on_commit_callbacks(execute=True):
        assert agenda_services.tasks_due_emit(day=tomorrow.due_on) == 1
        assert agenda_services.tasks_due_emit(day=tomorrow.due_on) == 0
    assert [data["task"] for _name, data in _events(receiver)[2:]] == [tomorrow.pk]


def test_task_due_catch_up_window_follows_the_setting(settings, admin_user, rep):
    import datetime

    from django.utils import timezone

    from agenda import services as agenda_services
    from webhooks.models import Delivery

    settings.WEBHOOKS_ALLOW_PRIVATE = True  # no name lookup in the test
    services.webhook_create(by=admin_user, url="https://hooks.example.com/x", events=["task.due"])
    today = timezone.localdate()
    yesterday = factories.TaskFactory(owner=rep, due_on=today - datetime.timedelta(days=1))
    settings.TASK_DUE_CATCHUP_DAYS = 0  # only today's
    assert agenda_services.tasks_due_emit() == 0
    settings.TASK_DUE_CATCHUP_DAYS = 1
    assert agenda_services.tasks_due_emit() == 1
    assert agenda_services.tasks_due_emit() == 0
    yesterday.refresh_from_db()
    assert yesterday.due_event_on == yesterday.due_on
    assert list(Delivery.objects.values_list("payload__data__task", flat=True)) == [yesterday.pk]


def test_task_due_without_a_subscribed_endpoint_records_nothing_but_marks_the_task(settings, admin_user, rep):
    from agenda import services as agenda_services
    from webhooks.models import Delivery

    settings.WEBHOOKS_ALLOW_PRIVATE = True  # no name lookup in the test
    services.webhook_create(by=admin_user, url="https://hooks.example.com/x", events=["coach.ended"])
    task = factories.TaskFactory(owner=rep)
    assert agenda_services.tasks_due_emit() == 1
    assert not Delivery.objects.exists()
    task.refresh_from_db()
    assert task.due_event_on == task.due_on
