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


def test_notify_many_writes_what_notify_writes_in_a_fixed_number_of_queries(rep, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    message = gettext_lazy("%(by)s approved your grant of %(grant)s.")
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])

    def notices(n):
        users = [rep, *(factories.RepFactory(email=f"u{n}-{i}@example.com" if i % 2 else "") for i in range(n - 1))]
        return [services.Notice(user=user, message=message, params={"by": "Ann", "grant": "X"}) for user in users]

    few, many = notices(2), notices(20)
    with CaptureQueriesContext(connection) as few_queries:
        services.notify_many(notices=few)
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as many_queries:
        services.notify_many(notices=many)
    assert len(few_queries) == len(many_queries)
    # Each in its recipient's language, e-mailed to those who have an address, as notify does.
    assert Notification.objects.filter(user=rep).first().message == "Ann已批准您的赠予：X。"  # noqa: RUF001
    assert Notification.objects.filter(user=many[1].user).get().message == "Ann approved your grant of X."
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.user.email for n in many if n.user.email)
    assert mail.outbox[0].subject.startswith("CoachCRM")


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
