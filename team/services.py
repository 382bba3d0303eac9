from django.conf import settings
from django.contrib.auth.password_validation import validate_password
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


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can manage users."))


def user_manager_check(*, user: User, manager: User | None) -> None:
    if manager is None:
        return
    if manager.pk is not None and manager.pk == user.pk:
        raise ValidationError({"manager": _("A user cannot be his own manager.")})
    if not manager.is_manager:
        raise ValidationError({"manager": _("%(name)s is not a manager.") % {"name": manager}})


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    role: str = User.Role.REP,
    manager: User | None = None,
    selling_style: str = User.SellingStyle.UNKNOWN,
) -> User:
    """Add a user (admins only); without a password he cannot log in until one is set."""
    _require_admin(by)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("The user name %(name)s is taken.") % {"name": username}})
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        selling_style=selling_style,
    )
    user_manager_check(user=user, manager=manager)
    user.manager = manager
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, by: User, **fields) -> User:
    """Change a user's name, e-mail, role, manager or selling style (admins only)."""
    _require_admin(by)
    if "manager" in fields:
        user_manager_check(user=user, manager=fields["manager"])
    if user.pk == by.pk and fields.get("role", by.role) != by.role:
        raise ValidationError({"role": _("You cannot change your own role.")})
    if fields.get("role", User.Role.MANAGER) != User.Role.MANAGER and user.reports.exists():
        raise ValidationError(
            {"role": _("%(name)s still manages people; give them another manager first.") % {"name": user}}
        )
    for field, value in fields.items():
        setattr(user, field, value)
    user.save()
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
