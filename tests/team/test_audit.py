"""The login audit: what is recorded (sign-ins, failures, lock-outs, sign-outs, passwords, second
factor, API tokens), the admins' page and endpoint, the profile's recent sign-ins, the e-mails, pruning."""

import datetime

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from knox.models import AuthToken

from team import services, tasks
from team.models import SecurityEvent
from tests import factories

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind


def _kinds(user=None) -> list[str]:
    events = SecurityEvent.objects.all() if user is None else SecurityEvent.objects.filter(user=user)
    return list(events.order_by("pk").values_list("kind", flat=True))


def _login(client, user, password="pw-for-tests", **extra):  # noqa: S107 - the factories' test password
    return client.post(reverse("login"), {"username": user.username, "password": password}, **extra)


# --- What is recorded ----------------------------------------------------------------------


def test_sign_in_and_sign_out_are_recorded_with_the_address(client, rep):
    assert _login(client, rep, REMOTE_ADDR="203.0.113.7").status_code == 302
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.7")
    events = list(SecurityEvent.objects.filter(user=rep).order_by("pk"))
    assert [e.kind for e in events] == [Kind.LOGIN, Kind.LOGOUT]
    assert {e.address for e in events} == {"203.0.113.7"}
    assert events[0].username == rep.username


def test_failed_sign_in_is_recorded_for_a_known_and_an_unknown_name(client, rep):
    _login(client, rep, password="wrong")
    client.post(reverse("login"), {"username": "no-such-person", "password": "x"})
    known, unknown = SecurityEvent.objects.order_by("pk")
    assert (known.kind, known.user, known.username) == (Kind.LOGIN_FAILED, rep, rep.username)
    assert (unknown.kind, unknown.user, unknown.username) == (Kind.LOGIN_FAILED, None, "no-such-person")


def test_lock_out_is_recorded_once_per_refused_attempt(client, rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _i in range(3):
        _login(client, rep, password="wrong")
    assert _login(client, rep).status_code == 429
    # Two failures, then the third locks; the attempt while locked is refused and recorded too.
    assert _kinds(rep) == [Kind.LOGIN_FAILED, Kind.LOGIN_FAILED, Kind.LOCKED_OUT, Kind.LOCKED_OUT]


def test_wrong_second_factor_code_is_a_failed_sign_in_naming_the_code(client, rep):
    device = services.mfa_setup_start(user=rep)
    services.mfa_setup_confirm(user=rep, code=f"{totp(device.bin_key):06d}")
    _login(client, rep)
    client.post(reverse("login-code"), {"code": "000000"})
    event = SecurityEvent.objects.get(kind=Kind.LOGIN_FAILED)
    assert event.user == rep and event.detail == "wrong second-factor code"
    assert not SecurityEvent.objects.filter(kind=Kind.LOGIN).exists()  # the password step alone is no sign-in


def test_password_change_is_recorded_and_mailed(client, rep, django_capture_on_commit_callbacks):
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("team:password-change"),
            {
                "old_password": "pw-for-tests",
                "new_password1": "a-long-new-secret-42",
                "new_password2": "a-long-new-secret-42",
            },
        )
    assert response.status_code == 302
    assert SecurityEvent.objects.filter(user=rep, kind=Kind.PASSWORD_CHANGED).count() == 1
    assert mail.outbox[-1].to == [rep.email]
    assert mail.outbox[-1].subject == "CoachCRM: password changed"
    assert "/password-reset/" in mail.outbox[-1].body  # an absolute link to act if it was not him


def test_second_factor_added_and_removed_are_recorded_and_mailed(rep, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        device = services.mfa_setup_start(user=rep)
        services.mfa_setup_confirm(user=rep, code=f"{totp(device.bin_key):06d}")
        services.mfa_reset(user=rep, by=admin_user)
    added, removed = SecurityEvent.objects.filter(user=rep).order_by("pk")
    assert (added.kind, added.by) == (Kind.MFA_ADDED, None)
    assert (removed.kind, removed.by) == (Kind.MFA_REMOVED, admin_user)
    assert [m.subject for m in mail.outbox] == ["CoachCRM: second factor set up", "CoachCRM: second factor removed"]


def test_resetting_a_user_without_a_second_factor_records_nothing(rep, admin_user):
    services.mfa_reset(user=rep, by=admin_user)
    assert not SecurityEvent.objects.exists()


def test_an_event_rolls_back_with_the_write_that_caused_it(rep):
    device = services.mfa_setup_start(user=rep)
    with pytest.raises(Exception, match="does not match"):
        services.mfa_setup_confirm(user=rep, code="000000" if f"{totp(device.bin_key):06d}" != "000000" else "111111")
    assert not SecurityEvent.objects.exists()


def test_api_token_created_and_revoked_are_recorded(api_client, rep):
    answer = api_client.post(reverse("api:auth-token"), {"username": rep.username, "password": "pw-for-tests"})
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    assert api_client.delete(reverse("api:auth-token")).status_code == 204
    assert _kinds(rep) == [Kind.TOKEN_CREATED, Kind.TOKEN_REVOKED]


def test_admin_revoking_all_tokens_is_recorded_with_the_admin(token_client, rep, admin_user):
    AuthToken.objects.create(user=rep)
    assert token_client(admin_user).delete(reverse("api:user-token", args=[rep.pk])).status_code == 204
    event = SecurityEvent.objects.get(user=rep)
    assert (event.kind, event.by, event.detail) == (Kind.TOKEN_REVOKED, admin_user, "its one token")


def test_a_control_character_in_the_typed_name_is_stripped_and_names_nobody(client):
    factories.RepFactory(username="eveadmin")
    client.post(reverse("login"), {"username": "eve\r\nadmin", "password": "x"})
    event = SecurityEvent.objects.get()
    assert (event.username, event.user) == ("eveadmin", None)


# --- The admins' page -------------------------------------------------------------------------


def test_audit_page_lists_and_filters_for_admins(client, admin_user, rep, other_rep):
    factories.SecurityEventFactory(user=rep, kind=Kind.LOGIN)
    factories.SecurityEventFactory(user=other_rep, kind=Kind.LOGIN_FAILED)
    client.force_login(admin_user)
    url = reverse("team:securityevent-list")
    page = client.get(url, {"user": rep.pk})
    assert page.status_code == 200
    assert [e.user for e in page.context["page"]] == [rep]
    page = client.get(url, {"kind": Kind.LOGIN_FAILED})
    assert [e.user for e in page.context["page"]] == [other_rep]


def test_audit_page_filters_by_date_range(client, admin_user, rep):
    with time_machine.travel("2026-03-01 10:00", tick=False):
        factories.SecurityEventFactory(user=rep)
    with time_machine.travel("2026-03-05 10:00", tick=False):
        recent = factories.SecurityEventFactory(user=rep)
    client.force_login(admin_user)
    page = client.get(reverse("team:securityevent-list"), {"date_from": "2026-03-02", "date_to": "2026-03-05"})
    assert [e.pk for e in page.context["page"] if e.user == rep] == [recent.pk]


def test_audit_page_refuses_a_date_out_of_range_with_a_message(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("team:securityevent-list"), {"date_from": "1900-01-01"})
    assert page.status_code == 200
    assert "Enter a date between" in page.content.decode()
    page = client.get(reverse("team:securityevent-list"), {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert "The period ends before it starts" in page.content.decode()


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_audit_page_is_not_found_for_others(client, role):
    client.force_login(factories.RepFactory() if role == "rep" else factories.ManagerFactory())
    assert client.get(reverse("team:securityevent-list")).status_code == 404


def test_audit_page_takes_only_get(client, admin_user):
    client.force_login(admin_user)
    assert client.post(reverse("team:securityevent-list")).status_code == 405


def test_audit_page_is_in_the_admins_menu_only(client, admin_user, rep):
    url = reverse("team:securityevent-list")
    client.force_login(admin_user)
    assert url in client.get(reverse("team:profile")).content.decode()
    client.force_login(rep)
    assert url not in client.get(reverse("team:profile")).content.decode()


@pytest.mark.parametrize("rows", [1, 50])
def test_audit_page_query_count(client, admin_user, rows, django_assert_num_queries):
    client.force_login(admin_user)  # itself one event
    factories.SecurityEventFactory.create_batch(rows, user=factories.RepFactory(), by=admin_user)
    # session, user, count, page of events (with user and by joined: the N+1 guarded against),
    # the user filter's choices, unread badge — however many events there are.
    with django_assert_num_queries(6):
        assert client.get(reverse("team:securityevent-list")).status_code == 200


# --- The API ----------------------------------------------------------------------------------


def test_audit_api_lists_and_filters_for_admins(token_client, admin_user, rep):
    factories.SecurityEventFactory(user=rep, kind=Kind.LOCKED_OUT, address="198.51.100.4")
    answer = token_client(admin_user).get(reverse("api:security-event-list"), {"user": rep.pk})
    assert answer.status_code == 200
    (event,) = answer.json()["results"]
    assert (event["kind"], event["user"], event["address"]) == ("locked_out", rep.pk, "198.51.100.4")


def test_audit_api_refuses_others_with_403(token_client, rep):
    answer = token_client(rep).get(reverse("api:security-event-list"))
    assert answer.status_code == 403 and answer["Content-Type"] == "application/json"


def test_audit_api_refuses_a_bad_date_with_a_json_400(token_client, admin_user):
    answer = token_client(admin_user).get(reverse("api:security-event-list"), {"date_to": "9999-12-31"})
    assert answer.status_code == 400
    assert "date_to" in answer.json()["fields"]


def test_audit_api_is_read_only(token_client, admin_user):
    assert token_client(admin_user).post(reverse("api:security-event-list"), {"kind": "login"}).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_audit_api_query_count(token_client, admin_user, rows, django_assert_num_queries):
    client = token_client(admin_user)
    factories.SecurityEventFactory.create_batch(rows, user=factories.RepFactory())
    # token (and its user), token touch, count, page with user and by joined — constant in rows.
    with django_assert_num_queries(4):
        assert client.get(reverse("api:security-event-list")).status_code == 200


# --- The Django admin, the profile, pruning -------------------------------------------------------


def test_django_admin_shows_events_read_only(client, admin_user, rep):
    event = factories.SecurityEventFactory(user=rep)
    client.force_login(admin_user)
    assert client.get(reverse("admin:team_securityevent_changelist")).status_code == 200
    assert client.get(reverse("admin:team_securityevent_change", args=[event.pk])).status_code == 200
    model_admin = admin.site._registry[SecurityEvent]
    request = client.get(reverse("admin:index")).wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_profile_shows_only_his_own_recent_sign_ins(client, rep, other_rep):
    factories.SecurityEventFactory(user=other_rep, address="198.51.100.99")
    factories.SecurityEventFactory(user=rep, kind=Kind.LOGIN_FAILED, address="198.51.100.5")
    client.force_login(rep)
    page = client.get(reverse("team:profile")).content.decode()
    assert "198.51.100.5" in page and "Sign-in failed" in page
    assert "198.51.100.99" not in page


def test_prune_deletes_what_is_older_than_the_retention_and_a_second_run_nothing(rep, settings):
    settings.SECURITY_EVENTS_KEEP_DAYS = 30
    old = factories.SecurityEventFactory(user=rep, created_at=timezone.now() - datetime.timedelta(days=31))
    kept = factories.SecurityEventFactory(user=rep, created_at=timezone.now() - datetime.timedelta(days=29))
    assert tasks.security_events_prune_task() == 1
    assert tasks.security_events_prune_task() == 0
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


def test_prune_runs_daily(settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["team-security-events-prune"]["task"] == "team.tasks.security_events_prune_task"
    )


def test_a_password_set_in_the_django_admin_is_recorded_with_the_admin(client, admin_user, rep):
    AuthToken.objects.create(user=rep)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[rep.pk]),
        {"password1": "a-long-new-secret-42", "password2": "a-long-new-secret-42", "usable_password": "true"},
    )
    assert response.status_code == 302
    event = SecurityEvent.objects.get(user=rep, kind=Kind.PASSWORD_CHANGED)
    assert event.by == admin_user
    assert not AuthToken.objects.filter(user=rep).exists()
