"""The webhook pages (admins): list, add (the secret shown once), edit, disable/enable, rotate, the delivery log."""

import pytest
from django.urls import reverse

from coachcrm.models import Job
from tests import factories
from webhooks.models import Delivery, Webhook


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def hook(admin_user):
    return factories.WebhookFactory(created_by=admin_user)


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_webhook_pages_are_404_for_reps_and_managers(client, role, hook):
    client.force_login(factories.RepFactory() if role == "rep" else factories.ManagerFactory())
    delivery = factories.DeliveryFactory(webhook=hook, status="failed")
    for name, args in (
        ("webhooks:webhook-list", []),
        ("webhooks:webhook-create", []),
        ("webhooks:webhook-detail", [hook.pk]),
        ("webhooks:webhook-update", [hook.pk]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name, args in (
        ("webhooks:webhook-create", []),
        ("webhooks:webhook-active", [hook.pk]),
        ("webhooks:webhook-rotate-secret", [hook.pk]),
        ("webhooks:delivery-redeliver", [hook.pk, delivery.pk]),
    ):
        assert (
            client.post(reverse(name, args=args), {"url": "https://93.184.216.34/", "active": "false"}).status_code
            == 404
        )
    hook.refresh_from_db()
    delivery.refresh_from_db()
    assert (Webhook.objects.count(), hook.active, delivery.status) == (1, True, "failed")


def test_webhooks_are_in_the_admin_menu_only(client, admin_client, rep):
    url = reverse("webhooks:webhook-list")
    assert url.encode() in admin_client.get(reverse("team:securityevent-list")).content
    client.force_login(rep)
    assert url.encode() not in client.get(reverse("home")).content


def test_webhook_list_shows_url_events_state_and_failures(admin_client, admin_user):
    factories.WebhookFactory(url="https://93.184.216.34/slack", events=["coach.ended", "task.due"])
    factories.WebhookFactory(url="https://93.184.216.34/bi", active=False, failing_since="2026-11-01T10:00Z")
    page = admin_client.get(reverse("webhooks:webhook-list")).content.decode()
    assert "https://93.184.216.34/slack" in page and "coach.ended, task.due" in page
    assert "https://93.184.216.34/bi" in page and "disabled" in page
    assert "table-stack" in page


@pytest.mark.parametrize("rows", [1, 50])
def test_webhook_list_query_count_does_not_grow_with_rows(admin_client, admin_user, rows, django_assert_num_queries):
    factories.WebhookFactory.create_batch(rows, created_by=admin_user)
    # session, user, the endpoints (nothing per row: the creator is not shown), unread badge.
    with django_assert_num_queries(4):
        response = admin_client.get(reverse("webhooks:webhook-list"))
    assert len(response.context["webhooks"]) == rows


def test_webhook_create_shows_the_secret_once(admin_client, admin_user, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = admin_client.post(
        reverse("webhooks:webhook-create"),
        {"url": "https://93.184.216.34/in", "description": "Slack", "events": ["coach.ended", "handover.done"]},
    )
    hook = Webhook.objects.get()
    assert response.status_code == 302 and response.url == reverse("webhooks:webhook-detail", args=[hook.pk])
    assert (hook.url, hook.description, hook.events, hook.active, hook.created_by) == (
        "https://93.184.216.34/in",
        "Slack",
        ["coach.ended", "handover.done"],
        True,
        admin_user,
    )
    first = admin_client.get(response.url).content.decode()
    assert hook.secret in first and 'data-copy="webhook-secret"' in first
    again = admin_client.get(response.url).content.decode()
    assert hook.secret not in again and 'data-testid="webhook-secret"' not in again


def test_webhook_create_refuses_what_is_not_a_url(admin_client):
    response = admin_client.post(reverse("webhooks:webhook-create"), {"url": "not a url at all"})
    assert response.status_code == 200
    assert response.context["form"].errors["url"]
    assert not Webhook.objects.exists()


def test_webhook_create_refuses_a_private_address_on_the_field(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = admin_client.post(reverse("webhooks:webhook-create"), {"url": "http://169.254.169.254/latest"})
    assert response.status_code == 200
    [error] = response.context["form"].errors["url"]
    assert "private or local address" in error
    assert not Webhook.objects.exists()


def test_webhook_create_refuses_an_unknown_event(admin_client):
    response = admin_client.post(
        reverse("webhooks:webhook-create"), {"url": "https://93.184.216.34/", "events": ["nope"]}
    )
    assert response.status_code == 200 and response.context["form"].errors["events"]
    assert not Webhook.objects.exists()


def test_webhook_detail_of_an_unknown_endpoint_is_404(admin_client):
    assert admin_client.get(reverse("webhooks:webhook-detail", args=[999])).status_code == 404


def test_webhook_update_changes_events_and_checks_the_url(admin_client, hook, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    url = reverse("webhooks:webhook-update", args=[hook.pk])
    assert admin_client.get(url).context["form"].initial["url"] == hook.url
    response = admin_client.post(url, {"url": "http://127.0.0.1:8000/", "events": ["task.due"]})
    assert response.status_code == 200 and response.context["form"].errors["url"]
    response = admin_client.post(url, {"url": hook.url, "events": ["task.due"]})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.events == ["task.due"]


@pytest.mark.parametrize(
    "name", ["webhooks:webhook-active", "webhooks:webhook-rotate-secret", "webhooks:delivery-redeliver"]
)
def test_webhook_actions_take_only_post(admin_client, hook, name):
    delivery = factories.DeliveryFactory(webhook=hook)
    args = [hook.pk, delivery.pk] if name == "webhooks:delivery-redeliver" else [hook.pk]
    assert admin_client.get(reverse(name, args=args)).status_code == 405


def test_webhook_disable_then_enable_forgets_the_failures(admin_client, hook):
    url = reverse("webhooks:webhook-active", args=[hook.pk])
    page = admin_client.get(reverse("webhooks:webhook-detail", args=[hook.pk])).content.decode()
    assert f'action="{url}" data-confirm=' in page  # disabling asks first
    assert admin_client.post(url, {"active": "false"}).status_code == 302
    hook.refresh_from_db()
    assert not hook.active
    Webhook.objects.filter(pk=hook.pk).update(failing_since="2026-11-01T10:00Z", disabled_at="2026-11-02T10:00Z")
    admin_client.post(url, {"active": "true"})
    hook.refresh_from_db()
    assert (hook.active, hook.failing_since, hook.disabled_at) == (True, None, None)


def test_webhook_rotate_secret_asks_first_and_shows_the_new_one_once(admin_client, hook):
    old = hook.secret
    detail = reverse("webhooks:webhook-detail", args=[hook.pk])
    url = reverse("webhooks:webhook-rotate-secret", args=[hook.pk])
    assert f'action="{url}" data-confirm=' in admin_client.get(detail).content.decode()
    response = admin_client.post(url)
    assert response.status_code == 302 and response.url == detail
    hook.refresh_from_db()
    assert hook.secret != old
    assert hook.secret in admin_client.get(detail).content.decode()
    assert hook.secret not in admin_client.get(detail).content.decode()


def test_a_secret_is_shown_only_on_its_own_endpoint(admin_client, hook, admin_user):
    other = factories.WebhookFactory(created_by=admin_user)
    admin_client.post(reverse("webhooks:webhook-rotate-secret", args=[hook.pk]))
    hook.refresh_from_db()
    assert hook.secret not in admin_client.get(reverse("webhooks:webhook-detail", args=[other.pk])).content.decode()
    assert hook.secret in admin_client.get(reverse("webhooks:webhook-detail", args=[hook.pk])).content.decode()


def test_delivery_log_shows_status_code_duration_attempts_and_error(admin_client, hook):
    factories.DeliveryFactory(
        webhook=hook,
        status="failed",
        response_code=503,
        duration_ms=1234,
        attempts=7,
        last_error="The endpoint answered 503.",
    )
    factories.DeliveryFactory(webhook=factories.WebhookFactory(), last_error="another endpoint's")
    response = admin_client.get(reverse("webhooks:webhook-detail", args=[hook.pk]))
    page = response.content.decode()
    assert [d.webhook_id for d in response.context["page"]] == [hook.pk]
    for text in ("Failed", "503", "1234 ms", ">7<", "The endpoint answered 503.", "table-stack"):
        assert text in page, text
    assert "another endpoint's" not in page


@pytest.mark.parametrize("rows", [1, 50])
def test_delivery_log_query_count_does_not_grow_with_rows(admin_client, hook, rows, django_assert_num_queries):
    factories.DeliveryFactory.create_batch(rows, webhook=hook)
    # session, user, the endpoint, the page's count and rows (each row's endpoint is the page's,
    # never fetched again per row), unread badge.
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("webhooks:webhook-detail", args=[hook.pk]))
    assert len(response.context["page"]) == min(rows, response.context["page"].paginator.per_page)


def test_delivery_log_is_paginated(admin_client, hook):
    factories.DeliveryFactory.create_batch(30, webhook=hook)
    response = admin_client.get(reverse("webhooks:webhook-detail", args=[hook.pk]), {"page": 2})
    assert response.context["page"].number == 2
    assert len(response.context["page"]) == 30 - response.context["page"].paginator.per_page


def test_redeliver_queues_the_delivery_again(admin_client, hook):
    delivery = factories.DeliveryFactory(webhook=hook, status="failed", attempts=3)
    response = admin_client.post(reverse("webhooks:delivery-redeliver", args=[hook.pk, delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 3)
    assert Job.objects.filter(key=f"webhooks.deliver:{delivery.pk}").exists()


def test_redeliver_on_a_disabled_endpoint_says_why(admin_client, hook):
    Webhook.objects.filter(pk=hook.pk).update(active=False)
    delivery = factories.DeliveryFactory(webhook=hook, status="failed")
    response = admin_client.post(reverse("webhooks:delivery-redeliver", args=[hook.pk, delivery.pk]), follow=True)
    assert "The endpoint is inactive: activate it first." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_redeliver_of_another_endpoints_delivery_is_404(admin_client, hook):
    other = factories.DeliveryFactory(status="failed")
    assert admin_client.post(reverse("webhooks:delivery-redeliver", args=[hook.pk, other.pk])).status_code == 404
    assert Delivery.objects.get(pk=other.pk).status == "failed"
