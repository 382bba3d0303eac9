import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from team import services
from team.models import Notification
from tests import factories


def test_notify_stores_the_notice_and_mails_after_commit(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(user=rep, message="Deal sent back", link="/x/")
    assert Notification.objects.get(user=rep).message == "Deal sent back"
    assert mail.outbox[0].to == [rep.email]


def test_notify_renders_in_the_recipients_language_not_the_actors(rep, django_capture_on_commit_callbacks):
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.notify(
            user=rep,
            message=gettext_lazy("%(by)s approved your grant of %(grant)s."),
            params={"by": "Ann", "grant": "X"},
        )
    assert Notification.objects.get(user=rep).message == "Ann已批准您的赠予：X。"  # noqa: RUF001
    assert mail.outbox[0].subject.startswith("CoachCRM：")  # noqa: RUF001
    assert "Ann" in mail.outbox[0].body


def test_notify_uses_the_default_language_for_a_user_without_a_choice(rep):
    with translation.override("zh-hans"):
        services.notify(
            user=rep,
            message=gettext_lazy("%(by)s approved your grant of %(grant)s."),
            params={"by": "Ann", "grant": "X"},
            email=False,
        )
    assert Notification.objects.get(user=rep).message == "Ann approved your grant of X."


def test_notify_without_email_sends_nothing(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(user=rep, message="Quiet", email=False)
    assert mail.outbox == []


def test_notification_page_lists_only_own_notices_and_marks_them_read(rep_client, rep):
    services.notify(user=rep, message="Mine", email=False)
    services.notify(user=factories.RepFactory(), message="Not mine", email=False)
    response = rep_client.get(reverse("team:notification-list"))
    assert b"Mine" in response.content
    assert b"Not mine" not in response.content
    assert b'data-testid="unread-count">1<' in response.content
    rep_client.post(reverse("team:notification-read"))
    assert not Notification.objects.filter(user=rep).unread().exists()


@pytest.mark.parametrize("rows", [1, 50])
def test_notification_page_query_count(rep_client, rep, rows, django_assert_num_queries):
    for i in range(rows):
        services.notify(user=rep, message=f"n{i}", email=False)
    # session, user, count, page, unread badge: constant however many notices there are.
    with django_assert_num_queries(5):
        rep_client.get(reverse("team:notification-list"))


def test_mark_read_requires_post(rep_client):
    assert rep_client.get(reverse("team:notification-read")).status_code == 405
