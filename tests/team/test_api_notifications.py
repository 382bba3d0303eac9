"""Notifications through the API: one's own only, marked read like the page's button."""

from django.urls import reverse

from team.models import Notification


def test_notifications_list_only_ones_own_and_mark_read(token_client, rep, other_rep):
    Notification.objects.create(user=rep, message="Deal sent back", link="/pipeline/")
    Notification.objects.create(user=other_rep, message="Not yours")
    client = token_client(rep)
    response = client.get(reverse("api:notification-list"))
    assert [n["message"] for n in response.json()["results"]] == ["Deal sent back"]
    response = client.post(reverse("api:notification-read"))
    assert response.json() == {"marked": 1}
    assert Notification.objects.get(user=rep).read_at is not None
    assert Notification.objects.get(user=other_rep).read_at is None
    assert client.get(reverse("api:notification-list"), {"read_at__isnull": "true"}).json()["count"] == 0


def test_notification_detail_is_not_offered(token_client, rep):
    notice = Notification.objects.create(user=rep, message="x")
    assert token_client(rep).get(f"/api/v1/notifications/{notice.pk}/").status_code == 404
