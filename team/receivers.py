# The login audit's answers to Django's and django-axes' sign-in signals (connected in TeamConfig.ready).
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.utils.translation import gettext as _

from coachcrm.inputs import CONTROL_CHARACTERS
from team import services
from team.models import SecurityEvent, User


def _user_named(username: str) -> User | None:
    # A name with a control character is nobody's (and NUL would break a PostgreSQL query).
    if not username or CONTROL_CHARACTERS.search(username):
        return None
    return User.objects.filter(username=username).first()


def _logged_in(sender, request, user, **kwargs):
    services.security_event_record(kind=SecurityEvent.Kind.LOGIN, user=user, request=request)


def _logged_out(sender, request, user, **kwargs):
    if user is not None:  # signing out while signed out
        services.security_event_record(kind=SecurityEvent.Kind.LOGOUT, user=user, request=request)


def _login_failed(sender, credentials, request=None, **kwargs):
    if getattr(request, "axes_locked_out", False):
        return  # the attempt that locks (or finds locked) is recorded as the lock-out itself
    username = str(credentials.get("username") or "")
    services.security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        user=_user_named(username),
        username=username,
        request=request,
        detail=_("wrong second-factor code") if kwargs.get("reason") == "code" else "",
    )


def _locked_out(sender, request, username, **kwargs):
    services.security_event_record(
        kind=SecurityEvent.Kind.LOCKED_OUT,
        user=_user_named(username or ""),
        username=username or "",
        request=request,
    )


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="team.audit.logged_in")
    user_logged_out.connect(_logged_out, dispatch_uid="team.audit.logged_out")
    user_login_failed.connect(_login_failed, dispatch_uid="team.audit.login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="team.audit.locked_out")
