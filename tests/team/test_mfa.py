"""Two-factor sign-in (TOTP with django-otp): set-up, login with and without the code, recovery codes,
API tokens, the lock-out, the required roles and the admin's reset."""

import pytest
from django.contrib.auth.signals import user_login_failed  # noqa: F401 - axes listens to it
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from team import services
from tests import factories

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _next_step(device: TOTPDevice) -> None:
    """Pretend the last code was used a step ago and no failure is pending (instead of waiting 30 s)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=device.last_t - 1, throttling_failure_count=0)
    device.refresh_from_db()


def _enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = services.mfa_setup_start(user=user)
    codes = services.mfa_setup_confirm(user=user, code=_code(device))
    device.refresh_from_db()
    return device, codes


def _password(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": "pw-for-tests"})


def test_setup_page_shows_a_qr_code_and_confirming_gives_ten_recovery_codes(client, rep):
    client.force_login(rep)
    response = client.get(reverse("team:mfa-setup"))
    assert response.status_code == 200
    assert response.context["qr"].startswith("data:image/svg+xml")
    device = TOTPDevice.objects.get(user=rep, confirmed=False)
    response = client.post(reverse("team:mfa-setup"), {"code": _code(device)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert services.mfa_enabled(rep)
    assert "On:" in client.get(reverse("team:profile")).content.decode()


def test_setup_refuses_a_wrong_code(client, rep):
    client.force_login(rep)
    client.get(reverse("team:mfa-setup"))
    response = client.post(reverse("team:mfa-setup"), {"code": "000000"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not services.mfa_enabled(rep)


def test_login_with_a_device_asks_for_the_code(client, rep):
    device, _codes = _enrol(rep)
    _next_step(device)  # a code is good once: the one used for the set-up is spent
    response = _password(client, rep)
    assert response.url == reverse("login-code")
    assert "_auth_user_id" not in client.session  # not logged in by the password alone
    assert client.get(reverse("home")).status_code == 302
    response = client.post(reverse("login-code"), {"code": _code(device)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_login_without_a_device_is_the_password_alone(client, rep):
    response = _password(client, rep)
    assert response.url == reverse("home")


def test_a_recovery_code_works_once(client, rep):
    _device, codes = _enrol(rep)
    _password(client, rep)
    assert client.post(reverse("login-code"), {"code": codes[0]}).status_code == 302
    client.logout()
    _password(client, rep)
    response = client.post(reverse("login-code"), {"code": codes[0]})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]


def test_wrong_codes_count_for_the_lock_out(client, rep, settings):
    settings.AXES_FAILURE_LIMIT = 3
    _enrol(rep)
    _password(client, rep)
    statuses = [client.post(reverse("login-code"), {"code": "000000"}).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    # Locked out: even the right password is refused now.
    client.logout()
    assert _password(client, rep).status_code == 429


def test_code_step_without_a_password_step_goes_back_to_login(client):
    assert client.get(reverse("login-code")).url == reverse("login")


def test_required_role_is_sent_to_the_setup_until_done(client, settings):
    settings.MFA_REQUIRED_ROLES = ["admin"]
    admin = factories.AdminFactory()
    response = _password(client, admin)
    assert client.get(reverse("home")).url == reverse("team:mfa-setup")
    assert client.get(reverse("accounts:account-list")).url == reverse("team:mfa-setup")
    assert client.get("/api/v1/accounts/").json()["code"] == "mfa_setup_required"
    response = client.get(reverse("team:mfa-setup"))
    assert response.context["required"]
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    client.post(reverse("team:mfa-setup"), {"code": _code(device)})
    assert client.get(reverse("home")).status_code == 200


def test_required_role_is_not_asked_of_a_rep(client, rep, settings):
    settings.MFA_REQUIRED_ROLES = ["admin"]
    _password(client, rep)
    assert client.get(reverse("home")).status_code == 200


def test_api_token_asks_for_the_code_when_the_user_has_a_device(api_client, rep):
    device, _codes = _enrol(rep)
    url = reverse("api:auth-token")
    credentials = {"username": rep.username, "password": "pw-for-tests"}
    response = api_client.post(url, credentials, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "mfa_required"
    response = api_client.post(url, {**credentials, "code": "000000"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_code"
    _next_step(device)  # past the spent set-up code and the throttle after a wrong one
    response = api_client.post(url, {**credentials, "code": _code(device)}, format="json")
    assert response.status_code == 200
    assert response.json()["token"]


def test_api_token_is_refused_to_a_required_role_without_a_device(api_client, settings):
    settings.MFA_REQUIRED_ROLES = ["admin"]
    admin = factories.AdminFactory()
    response = api_client.post(
        reverse("api:auth-token"), {"username": admin.username, "password": "pw-for-tests"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_setup_required"


def test_admin_resets_a_users_second_factor_and_a_rep_cannot(rep, admin_user, caplog):
    _enrol(rep)
    with pytest.raises(Exception, match="Only an admin"):
        services.mfa_reset(user=rep, by=factories.RepFactory())
    services.mfa_reset(user=rep, by=admin_user)
    assert not services.mfa_enabled(rep)
    assert not StaticDevice.objects.filter(user=rep).exists()
    assert "reset by admin" in caplog.text


def test_admin_site_login_goes_through_the_crm_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/admin/"


def test_code_step_expires_and_refuses_a_user_deactivated_meanwhile(client, rep):
    device, _codes = _enrol(rep)
    _next_step(device)
    _password(client, rep)
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    response = client.post(reverse("login-code"), {"code": _code(device)})
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session
