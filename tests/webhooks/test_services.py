"""Webhooks: signed deliveries to a local receiver, retries with backoff, disabling, redelivery, SSRF."""

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from team.models import Notification
from webhooks import services, tasks
from webhooks.models import Delivery, Webhook


@pytest.fixture
def hook(receiver, admin_user):
    return services.webhook_create(by=admin_user, url=receiver.url, events=["coach.ended", "opportunity.sent_back"])


def _emit(django_capture_on_commit_callbacks, event="coach.ended", data=None):
    with django_capture_on_commit_callbacks(execute=True):
        return services.event_emit(event=event, data=data or {"coach": 1})


def _verified(headers: dict, body: bytes, secret: str) -> bool:
    # What a receiver does: recompute the HMAC over "<timestamp>.<body>" and compare in constant time.
    expected = hmac.new(
        secret.encode(), headers["X-CoachCRM-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-CoachCRM-Signature"], f"sha256={expected}")


def test_delivery_is_a_signed_json_post_the_receiver_can_verify(receiver, hook, django_capture_on_commit_callbacks):
    [delivery] = _emit(django_capture_on_commit_callbacks, data={"coach": 7, "status": "ended"})
    [(headers, body)] = receiver.requests
    assert headers["X-CoachCRM-Event"] == "coach.ended"
    assert headers["X-CoachCRM-Delivery"] == str(delivery.delivery_id)
    assert abs(int(headers["X-CoachCRM-Timestamp"]) - timezone.now().timestamp()) < 5
    assert _verified(headers, body, hook.secret)
    assert not _verified(headers, body.replace(b"7", b"8"), hook.secret)  # a forged body fails
    assert not _verified(headers, body, "another secret")
    payload = json.loads(body)
    assert payload["event"] == "coach.ended" and payload["id"] == str(delivery.delivery_id)
    assert payload["data"] == {"coach": 7, "status": "ended"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)
    assert delivery.duration_ms is not None


def test_nothing_is_sent_before_the_commit_nor_for_an_event_the_endpoint_did_not_pick(receiver, hook):
    services.event_emit(event="coach.ended", data={})  # the test's transaction never commits
    services.event_emit(event="grant.pending", data={})
    assert receiver.requests == []
    assert list(Delivery.objects.values_list("event", flat=True)) == ["coach.ended"]


def test_an_inactive_endpoint_gets_nothing(receiver, hook, admin_user, django_capture_on_commit_callbacks):
    services.webhook_update(webhook=hook, by=admin_user, active=False)
    assert _emit(django_capture_on_commit_callbacks) == []
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_a_second_run_of_a_delivered_one_changes_nothing(receiver, hook, django_capture_on_commit_callbacks):
    [delivery] = _emit(django_capture_on_commit_callbacks)
    assert tasks.webhook_deliver_task(delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_a_failure_is_retried_with_backoff_until_it_goes_through(receiver, hook, django_capture_on_commit_callbacks):
    receiver.codes = [500, 503]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        [delivery] = _emit(django_capture_on_commit_callbacks)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
        assert delivery.next_attempt_at == timezone.now() + datetime.timedelta(minutes=1)
        assert tasks.webhooks_deliver_due_task() == 0  # not yet
        clock.shift(datetime.timedelta(seconds=61))
        assert tasks.webhooks_deliver_due_task() == 1
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.response_code) == (2, 503)
        assert delivery.next_attempt_at == timezone.now() + datetime.timedelta(minutes=2)  # doubled
        clock.shift(datetime.timedelta(minutes=2))
        tasks.webhooks_deliver_due_task()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    # The same delivery id every time: the receiver can drop a repeat.
    assert len({headers["X-CoachCRM-Delivery"] for headers, _body in receiver.requests}) == 1
    hook.refresh_from_db()
    assert hook.failing_since is None


def test_an_endpoint_failing_for_24_hours_is_disabled_and_its_admins_told(
    receiver, hook, admin_user, django_capture_on_commit_callbacks
):
    receiver.codes = [500] * 100
    with time_machine.travel(timezone.now(), tick=False) as clock:
        [delivery] = _emit(django_capture_on_commit_callbacks)
        for _hour in range(25):
            clock.shift(datetime.timedelta(hours=1))
            tasks.webhooks_deliver_due_task()
    hook.refresh_from_db()
    delivery.refresh_from_db()
    assert not hook.active and hook.disabled_at is not None
    assert delivery.status == "failed"
    assert "disabled" in Notification.objects.get(user=admin_user).message
    # The backoff is capped at an hour: some 25 attempts over the day, not thousands.
    assert 20 <= delivery.attempts <= 26


def test_redelivery_sends_the_same_delivery_again(receiver, hook, admin_user, django_capture_on_commit_callbacks):
    [delivery] = _emit(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_redeliver(delivery=delivery, by=admin_user)
    assert len(receiver.requests) == 2
    assert receiver.requests[0][0]["X-CoachCRM-Delivery"] == receiver.requests[1][0]["X-CoachCRM-Delivery"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_redelivery_to_an_inactive_endpoint_is_refused(receiver, hook, admin_user, django_capture_on_commit_callbacks):
    [delivery] = _emit(django_capture_on_commit_callbacks)
    services.webhook_update(webhook=hook, by=admin_user, active=False)
    with pytest.raises(ValidationError):
        services.delivery_redeliver(delivery=Delivery.objects.get(pk=delivery.pk), by=admin_user)


def test_an_unreachable_endpoint_is_a_recorded_failure_not_an_error(
    admin_user, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    services.webhook_create(by=admin_user, url="http://127.0.0.1:9/nothing-listens-here")
    [delivery] = _emit(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.response_code is None and delivery.last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ],
)
def test_private_and_loopback_targets_are_refused(admin_user, url):
    with pytest.raises(ValidationError) as refusal:
        services.webhook_create(by=admin_user, url=url)
    assert refusal.value.error_dict["url"][0].code == "private_address"
    assert not Webhook.objects.exists()


def test_a_private_target_is_refused_at_sending_too(receiver, hook, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    [delivery] = _emit(django_capture_on_commit_callbacks)
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert "private" in delivery.last_error


def test_other_schemes_and_unknown_events_are_refused(admin_user):
    with pytest.raises(ValidationError):
        services.webhook_create(by=admin_user, url="file:///etc/passwd")
    with pytest.raises(ValidationError):
        services.webhook_create(by=admin_user, url="https://93.184.216.34/hook", events=["coach.exploded"])


def test_a_public_target_is_accepted_and_only_admins_register(admin_user, rep):
    hook = services.webhook_create(by=admin_user, url="https://93.184.216.34/hook", events=["opportunity.won"])
    assert hook.secret and len(hook.secret) >= 40
    with pytest.raises(ValidationError):
        services.webhook_create(by=rep, url="https://93.184.216.34/hook")


# --- pruning the delivery log ---------------------------------------------------------------


def test_delivered_deliveries_past_the_retention_are_pruned_and_pending_and_failed_ones_stay(admin_user, settings):
    settings.WEBHOOK_DELIVERIES_RETENTION_DAYS = 30
    hook = services.webhook_create(by=admin_user, url="https://93.184.216.34/hook", events=["coach.ended"])
    now = timezone.now()
    old, recent = now - datetime.timedelta(days=31), now - datetime.timedelta(days=29)

    def delivery(status, created_at):
        return Delivery.objects.create(
            webhook=hook, event="coach.ended", payload={}, status=status, created_at=created_at
        )

    delivery(Delivery.Status.DELIVERED, old)
    kept = {
        delivery(Delivery.Status.DELIVERED, recent).pk,
        delivery(Delivery.Status.PENDING, old).pk,
        delivery(Delivery.Status.FAILED, old).pk,
    }
    task = tasks.deliveries_prune_task
    assert task.apply().get() == 1
    assert task.apply().get() == 0  # a second run deletes nothing
    assert set(Delivery.objects.values_list("pk", flat=True)) == kept
    # The retention counts back from the run: two days on, the recent one has aged past it too.
    assert services.deliveries_prune(now=now + datetime.timedelta(days=2)) == 1
