import datetime

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from team import services
from team.models import User
from tests import factories

TOKEN_URL = "/api/v1/auth/token/"


def _login(api_client, user):
    """A fresh client logged in with the user's password: its token (one per client)."""
    response = api_client.post(TOKEN_URL, {"username": user.username, "password": "pw-for-tests"})
    assert response.status_code == 200, response.json()
    return response.json()["token"]


def _with_token(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_token_login_returns_a_token_that_authenticates(api_client, rep):
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 200
    token = response.json()["token"]
    assert AuthToken.objects.get().user == rep
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get(reverse("api:user-detail", args=[rep.pk])).json()["username"] == rep.username


def test_token_login_answers_the_expiry_a_ttl_from_now(api_client, rep, settings, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": datetime.timedelta(hours=5)}
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw-for-tests"})
    expiry = datetime.datetime.fromisoformat(response.json()["expiry"])
    assert expiry == datetime.datetime(2026, 3, 1, 14, 0, tzinfo=datetime.UTC)


def test_token_is_not_stored_in_clear(api_client, rep):
    token = _login(api_client, rep)
    row = AuthToken.objects.values().get()
    assert not [field for field, value in row.items() if token in str(value)]
    assert not AuthToken.objects.filter(digest=token).exists()


def test_each_login_gets_its_own_token(api_client, rep):
    first, second = _login(api_client, rep), _login(api_client, rep)
    assert first != second
    assert AuthToken.objects.filter(user=rep).count() == 2


def test_token_login_over_the_limit_is_a_conflict_that_creates_nothing(api_client, rep, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    _login(api_client, rep)
    _login(api_client, rep)
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 409
    assert response.json()["code"] == "token_limit"
    assert AuthToken.objects.filter(user=rep).count() == 2


def test_expired_tokens_do_not_count_towards_the_limit_and_are_swept(api_client, rep, settings, time_machine):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 1, "TOKEN_TTL": datetime.timedelta(hours=1)}
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    _login(api_client, rep)
    time_machine.move_to(datetime.datetime(2026, 3, 1, 10, 1, tzinfo=datetime.UTC), tick=False)
    _login(api_client, rep)
    assert AuthToken.objects.filter(user=rep).count() == 1


def test_expired_token_answers_401(api_client, rep, settings, time_machine):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": datetime.timedelta(hours=1)}
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    client = _with_token(_login(api_client, rep))
    time_machine.move_to(datetime.datetime(2026, 3, 1, 10, 1, tzinfo=datetime.UTC), tick=False)
    response = client.get(reverse("api:account-list"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not AuthToken.objects.exists()


def test_using_a_token_pushes_its_expiry_back(api_client, rep, settings, time_machine):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": datetime.timedelta(hours=1)}
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    client = _with_token(_login(api_client, rep))
    for hour in (9, 10):  # each use within the hour keeps it alive for another hour
        time_machine.move_to(datetime.datetime(2026, 3, 1, hour, 50, tzinfo=datetime.UTC), tick=False)
        assert client.get(reverse("api:account-list")).status_code == 200
    assert AuthToken.objects.get().expiry == datetime.datetime(2026, 3, 1, 11, 50, tzinfo=datetime.UTC)


def test_token_login_with_a_wrong_password_is_refused(api_client, rep):
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert not AuthToken.objects.exists()


def test_token_login_without_fields_names_them(api_client):
    response = api_client.post(TOKEN_URL, {})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "password"}


def test_token_login_of_a_departed_user_is_refused(api_client, rep):
    rep.status, rep.departure_date = User.Status.DEPARTED, datetime.date(2026, 1, 1)
    rep.save()
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 401
    assert not AuthToken.objects.exists()


def test_existing_token_of_a_departed_user_stops_working(token_client, rep):
    client = token_client(rep)
    # Marked departed without the departure service (which also deletes his tokens): the
    # authentication itself refuses him.
    rep.status, rep.departure_date = User.Status.DEPARTED, datetime.date(2026, 1, 1)
    rep.save()
    response = client.get(reverse("api:account-list"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_existing_token_of_an_inactive_user_stops_working(token_client, rep):
    client = token_client(rep)
    rep.is_active = False
    rep.save()
    assert client.get(reverse("api:account-list")).status_code == 401


def test_repeated_failed_token_logins_lock_the_user_out_like_the_login_page(api_client, rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        api_client.post(TOKEN_URL, {"username": rep.username, "password": "wrong"})
    response = api_client.post(TOKEN_URL, {"username": rep.username, "password": "pw-for-tests"})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not AuthToken.objects.exists()


def test_anonymous_request_is_told_to_authenticate(api_client, rep):
    response = api_client.get(reverse("api:account-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_unknown_token_answers_401(api_client, rep):
    assert _with_token("0" * 64).get(reverse("api:account-list")).status_code == 401


def test_logging_out_revokes_only_the_token_used(api_client, rep):
    laptop, phone = _with_token(_login(api_client, rep)), _with_token(_login(api_client, rep))
    assert laptop.delete(TOKEN_URL).status_code == 204
    assert laptop.get(reverse("api:account-list")).status_code == 401
    assert phone.get(reverse("api:account-list")).status_code == 200
    assert AuthToken.objects.filter(user=rep).count() == 1


def test_logging_out_of_a_session_is_refused_and_revokes_nothing(client, api_client, rep):
    _login(api_client, rep)
    client.force_login(rep)
    response = client.delete(TOKEN_URL)
    assert response.status_code == 400
    assert response.json()["code"] == "no_token"
    assert AuthToken.objects.filter(user=rep).count() == 1


def test_user_revokes_all_his_own_tokens(api_client, rep):
    laptop, phone = _with_token(_login(api_client, rep)), _with_token(_login(api_client, rep))
    assert laptop.delete(reverse("api:user-token", args=[rep.pk])).status_code == 204
    assert laptop.get(reverse("api:account-list")).status_code == 401
    assert phone.get(reverse("api:account-list")).status_code == 401


def test_admin_revokes_all_of_anyones_tokens(api_client, token_client, rep, other_rep, admin_user):
    clients = [_with_token(_login(api_client, rep)) for _ in range(2)]
    others = AuthToken.objects.create(user=other_rep)[0]
    response = token_client(admin_user).delete(reverse("api:user-token", args=[rep.pk]))
    assert response.status_code == 204
    assert not AuthToken.objects.filter(user=rep).exists()
    assert [c.get(reverse("api:account-list")).status_code for c in clients] == [401, 401]
    assert AuthToken.objects.filter(pk=others.pk).exists()


def test_manager_cannot_revoke_his_reps_token(token_client, rep, manager):
    AuthToken.objects.create(user=rep)
    response = token_client(manager).delete(reverse("api:user-token", args=[rep.pk]))
    assert response.status_code == 403
    assert AuthToken.objects.filter(user=rep).exists()


def test_deactivating_a_user_deletes_his_tokens(rep, admin_user):
    AuthToken.objects.create(user=rep)
    mine = AuthToken.objects.create(user=admin_user)[0]
    services.user_deactivate(user=rep, by=admin_user)
    assert not AuthToken.objects.filter(user=rep).exists()
    assert AuthToken.objects.filter(pk=mine.pk).exists()


def test_tokens_are_listed_in_the_django_admin_without_their_secret(client, admin_user, rep):
    _instance, token = AuthToken.objects.create(user=rep)
    client.force_login(admin_user)
    response = client.get(reverse("admin:knox_authtoken_changelist"))
    assert response.status_code == 200
    assert str(rep).encode() in response.content
    assert token.encode() not in response.content


def test_the_django_admin_cannot_mint_tokens_past_the_login_rules(client, admin_user, rep):
    """Tokens come from logging in (api_token_create keeps the per-user limit); the admin revokes only."""
    instance, _token = AuthToken.objects.create(user=rep)
    client.force_login(admin_user)
    assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403
    response = client.post(reverse("admin:knox_authtoken_add"), {"user": rep.pk})
    assert response.status_code == 403
    assert AuthToken.objects.count() == 1
    response = client.post(reverse("admin:knox_authtoken_delete", args=[instance.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not AuthToken.objects.exists()


def test_rate_limit_answers_429_in_the_error_format(token_client, rep, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "2/min"})
    client = token_client(rep)
    assert [client.get(reverse("api:account-list")).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(reverse("api:account-list")).json()["code"] == "throttled"


# --- Users ----------------------------------------------------------------------------------


def _ids(response):
    return sorted(u["id"] for u in response.json()["results"])


def test_rep_sees_himself_and_his_manager(token_client, rep, manager, other_rep):
    factories.RepFactory(manager=manager)
    assert _ids(token_client(rep).get(reverse("api:user-list"))) == sorted([rep.pk, manager.pk])


def test_manager_sees_his_team(token_client, rep, manager, other_rep):
    teammate = factories.RepFactory(manager=manager)
    assert _ids(token_client(manager).get(reverse("api:user-list"))) == sorted([rep.pk, manager.pk, teammate.pk])


def test_user_out_of_scope_is_404(token_client, rep, other_rep):
    assert token_client(rep).get(reverse("api:user-detail", args=[other_rep.pk])).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_user_list_query_count_does_not_grow_with_rows(token_client, admin_user, rows, django_assert_num_queries):
    client = token_client(admin_user)
    manager = factories.ManagerFactory()
    for _ in range(rows):
        factories.RepFactory(manager=manager)
    # token + user, his other tokens (knox sweeps the expired ones), count, page with the manager
    # joined (his manager's id is the only field read, but select_related keeps a future name column
    # from costing a query a row).
    with django_assert_num_queries(4):
        response = client.get(reverse("api:user-list"), {"page_size": 100})
    assert response.json()["count"] == rows + 2


def test_admin_creates_a_user_with_a_validated_password(token_client, admin_user, manager):
    client = token_client(admin_user)
    data = {"username": "carol", "role": "rep", "manager": manager.pk, "email": "carol@example.com"}
    response = client.post(reverse("api:user-list"), {**data, "password": "123"})
    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    response = client.post(reverse("api:user-list"), {**data, "password": "long-enough-pass-42", "status": "departed"})
    assert response.json()["fields"] == {"status": ["This field cannot be set here."]}
    response = client.post(reverse("api:user-list"), {**data, "password": "long-enough-pass-42"})
    assert response.status_code == 201, response.json()
    carol = User.objects.get(username="carol")
    assert carol.check_password("long-enough-pass-42")
    assert carol.status == User.Status.ACTIVE
    assert "password" not in response.json()


def test_admin_cannot_name_a_rep_as_manager(token_client, admin_user, rep):
    response = token_client(admin_user).post(
        reverse("api:user-list"), {"username": "carol", "role": "rep", "manager": rep.pk}
    )
    assert response.status_code == 400
    assert "manager" in response.json()["fields"]


def test_admin_updates_a_user_but_not_his_status(token_client, admin_user, rep):
    client = token_client(admin_user)
    url = reverse("api:user-detail", args=[rep.pk])
    response = client.patch(url, {"selling_style": "driver", "status": "departed"})
    assert response.status_code == 400
    assert response.json()["code"] == "read_only_field"
    response = client.patch(url, {"selling_style": "driver", "status": "active"})
    assert response.status_code == 200
    rep.refresh_from_db()
    assert (rep.selling_style, rep.status) == ("driver", User.Status.ACTIVE)


def test_manager_may_not_create_or_change_users(token_client, manager, rep):
    client = token_client(manager)
    assert client.post(reverse("api:user-list"), {"username": "x"}).status_code == 403
    response = client.patch(reverse("api:user-detail", args=[rep.pk]), {"role": "admin"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    rep.refresh_from_db()
    assert rep.role == User.Role.REP
