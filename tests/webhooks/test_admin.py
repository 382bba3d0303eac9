"""The Django admin's webhook pages: created through the service, the secret shown once, private targets refused."""

from webhooks.models import Webhook


def test_admin_site_creates_a_webhook_and_shows_its_secret_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/webhooks/webhook/add/",
        {"url": "https://93.184.216.34/hook", "description": "BI", "events": ["coach.ended"], "active": "on"},
        follow=True,
    )
    hook = Webhook.objects.get()
    assert (hook.events, hook.created_by) == (["coach.ended"], admin_user)
    assert hook.secret in response.content.decode()
    # Once: the next page has no trace of it.
    page = client.get(f"/admin/webhooks/webhook/{hook.pk}/change/").content.decode()
    assert hook.secret not in page


def test_the_secret_stays_on_the_server_across_the_redirect(client, admin_user):
    from django.contrib.messages.storage.cookie import CookieStorage

    # Messages live in the session: Django's default would carry the secret to the browser and
    # back in a cookie (signed, not encrypted) until the next page shows it.
    client.force_login(admin_user)
    response = client.post(
        "/admin/webhooks/webhook/add/",
        {"url": "https://93.184.216.34/hook", "description": "BI", "events": ["coach.ended"], "active": "on"},
    )
    assert response.status_code == 302
    assert CookieStorage.cookie_name not in response.cookies
    assert Webhook.objects.get().secret in client.get(response.url).content.decode()


def test_admin_site_refuses_a_private_target_on_the_form(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/webhooks/webhook/add/", {"url": "http://10.0.0.1/hook", "active": "on"})
    assert response.status_code == 200
    assert "private or local address" in response.content.decode()
    assert not Webhook.objects.exists()
