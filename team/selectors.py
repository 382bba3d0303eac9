# Reads about users: the notification list, the login audit.
from django.db.models import (
    QuerySet,
)

from team.models import Notification, SecurityEvent, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's notices, newest first."""
    return Notification.objects.filter(user=user)


def user_mfa_devices(*, user) -> list:
    """The user's confirmed second-factor devices (TOTP apps, recovery codes)."""
    from django_otp import devices_for_user

    return list(devices_for_user(user, confirmed=True))


def mfa_pending_device(*, user):
    """The authenticator key being set up (unconfirmed), if any."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def security_event_list(*, queryset: QuerySet[SecurityEvent]) -> QuerySet[SecurityEvent]:
    """The login audit's events (already scoped by `access.security_events`), newest first, with their people."""
    return queryset.select_related("user", "by").order_by("-created_at", "-pk")


def recent_sign_ins(*, user: User, limit: int = 10) -> list[SecurityEvent]:
    """The user's own latest sign-ins, failed ones and lock-outs, for his profile."""
    return list(SecurityEvent.objects.filter(user=user).sign_ins()[:limit])
