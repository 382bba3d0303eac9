from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from team.models import Notification, User


@transaction.atomic
def user_deactivate(*, user: User, by: User) -> User:
    """Switch a user off without deleting anything he ever touched."""
    if not by.is_admin:
        raise ValidationError(_("Only an admin can deactivate users."))
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


def notify(*, user: User, message: str, link: str = "", email: bool = True) -> Notification:
    """Tell a user something in the app and, by default, by e-mail once the transaction commits."""
    notification = Notification.objects.create(user=user, message=message[:500], link=link)
    if email and user.email:
        transaction.on_commit(
            lambda: send_mail(
                subject=f"CoachCRM: {message[:80]}",
                message=message + (f"\n\n{link}" if link else ""),
                from_email=None,
                recipient_list=[user.email],
                fail_silently=True,
            )
        )
    return notification


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    """Mark all of the user's notices read."""
    return Notification.objects.filter(user=user).unread().update(read_at=timezone.now())


def user_set_language(*, user: User, language: str) -> User:
    """Remember the user's interface language ("" follows the browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %(code)s.") % {"code": language})
    user.language = language
    user.save(update_fields=["language"])
    return user
