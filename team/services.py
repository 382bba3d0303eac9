# Every write to users and their notices: create, update, deactivate, language, API tokens, notify().
import datetime
import ipaddress
import logging
import smtplib
from dataclasses import dataclass
from decimal import Decimal

from axes.helpers import get_client_ip_address, get_client_user_agent
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from knox.settings import knox_settings

from coachcrm import jobs
from coachcrm.inputs import CONTROL_CHARACTERS, single_line_check
from coachcrm.templatetags.crm import money
from team.models import Email, Notification, SecurityEvent, User

logger = logging.getLogger(__name__)
# A waiting e-mail younger than this is left to the job that is sending it.
EMAIL_RETRY_AFTER = datetime.timedelta(minutes=5)


@transaction.atomic
def user_deactivate(*, user: User, by: User) -> User:
    """Switch a user off without deleting anything he ever touched."""
    if not by.is_admin:
        raise ValidationError(_("Only an admin can deactivate users."))
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    api_tokens_revoke(user=user, by=by)
    return user


@transaction.atomic
def api_token_create(*, user: User, request=None) -> tuple[AuthToken, str]:
    """A new API token for one client of the user: (the stored row, the token string, shown only now)."""
    # Locks the user's row so that two logins at once cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    # Expired tokens are swept here too (knox only sweeps them when one of his tokens is used),
    # so that what remains are the live ones the limit counts.
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
        raise ValidationError(
            _(
                "You already have %(limit)s API tokens. Log out a client you no longer use "
                "(DELETE /api/v1/auth/token/ with its token), or revoke them all "
                "(DELETE /api/v1/users/%(id)s/token/)."
            )
            % {"limit": limit, "id": user.pk},
            code="token_limit",
        )
    created = AuthToken.objects.create(user=user)
    security_event_record(kind=SecurityEvent.Kind.TOKEN_CREATED, user=user, request=request)
    return created


@transaction.atomic
def api_token_revoke(*, token: AuthToken, by: User | None = None, request=None) -> None:
    """Log one client out: the other clients' tokens of the user keep working."""
    token.delete()
    security_event_record(kind=SecurityEvent.Kind.TOKEN_REVOKED, user=token.user, by=by, request=request)


@transaction.atomic
def api_tokens_revoke(*, user: User, by: User | None = None, request=None) -> int:
    """Revoke every API token of the user (all his clients); how many there were."""
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    if deleted:
        security_event_record(
            kind=SecurityEvent.Kind.TOKEN_REVOKED,
            user=user,
            by=by,
            request=request,
            detail=ngettext("its one token", "all %(count)s tokens", deleted) % {"count": deleted},
        )
    return deleted


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
    single_line_check(username=username, first_name=first_name, last_name=last_name, email=email)
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
    single_line_check(**{f: fields[f] for f in ("first_name", "last_name", "email") if f in fields})
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


def notify(
    *, user: User, message: str, params: dict | None = None, link: str = "", email: bool = True, email_body: str = ""
) -> Notification:
    """Tell a user something in the app and, by default, by e-mail once the transaction commits.

    Pass `message` as a gettext_lazy msgid and its `params`: the notice is rendered in the
    recipient's language (his choice, else the site default), not in the language of whoever
    triggered it. Lazy params (model instances, lazy strings, `note_text_lazy`) are
    rendered in it too, amounts (`Decimal`) as money and dates in his locale's format. `email_body`
    (already in his language): the e-mail says more than the notice (the daily digest's lists).
    """
    notice = Notice(user=user, message=message, params=params, link=link, email_body=email_body)
    return notify_many(notices=[notice], email=email)[0]


@dataclass(frozen=True)
class Notice:
    """One notice for `notify_many`: its recipient, message (a gettext_lazy msgid), params and link."""

    user: User
    message: str
    params: dict | None = None
    link: str = ""
    email_body: str = ""  # the e-mail's text instead of the notice's, rendered by the caller


@transaction.atomic(savepoint=False)  # a notice, its e-mail and the e-mail's job together, or none of them
def notify_many(*, notices: list[Notice], email: bool = True) -> list[Notification]:
    """`notify` for many recipients at once, in a fixed number of queries (a job telling each holder).

    Each notice is rendered in its recipient's language, as `notify` renders it; the
    notifications, the e-mails and their jobs are each written in one statement.
    """
    notifications, emails = [], []
    for notice in notices:
        user = notice.user
        with translation.override(user.language or settings.LANGUAGE_CODE):
            text = str(notice.message)
            if notice.params is not None:
                text = text % _notice_params(notice.params)
            subject = _("CoachCRM: %(message)s") % {"message": text[:80]}
        notifications.append(Notification(user=user, message=text[:500], link=notice.link))
        if email and user.email:
            # The link in full: a mail client cannot open a path.
            body = (notice.email_body or text) + (f"\n\n{site_url(notice.link)}" if notice.link else "")
            emails.append((user.email, subject, body))
    notifications = Notification.objects.bulk_create(notifications)
    email_queue_many(messages=emails)
    return notifications


EMAIL_TASK = "team.tasks.email_send_task"


def site_url(path: str) -> str:
    """An absolute address of a page, for e-mails: SITE_URL and the path."""
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def email_queue(*, to: str, subject: str, body: str) -> Email:
    """Record an e-mail and have a job send it once the transaction commits (never from the request)."""
    return email_queue_many(messages=[(to, subject, body)])[0]


def email_queue_many(*, messages: list[tuple[str, str, str]]) -> list[Email]:
    """`email_queue` for many (to, subject, body) at once: one insert for the e-mails, one for their jobs."""
    if not messages:
        return []
    emails = Email.objects.bulk_create(
        # A subject is one line: a line break in a name would otherwise make the send fail (BadHeaderError).
        Email(recipient=to, subject=" ".join(CONTROL_CHARACTERS.sub(" ", subject).split())[:200], body=body)
        for to, subject, body in messages
    )
    # Through the outbox, by name (the tasks module imports this one): sent once the write commits.
    jobs.enqueue_many(EMAIL_TASK, {f"email:{email.pk}": {"email_id": email.pk} for email in emails})
    return emails


class EmailRetryable(Exception):
    """Sending failed for a reason a later try may cure (the mail server down, a timeout)."""


def email_send(*, email_id: int) -> Email:
    """Send a recorded e-mail; a second run after it went out changes nothing.

    A failure is logged and kept on the row (admins see it under E-mails in the admin site):
    a refused message (a bad header, a refused recipient) is marked failed at once; a server
    or network failure leaves it waiting and raises EmailRetryable, until EMAIL_MAX_ATTEMPTS.
    """
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != Email.Status.PENDING:
            return email
        email.attempts += 1
        message = EmailMessage(subject=email.subject, body=email.body, to=[email.recipient])
        try:
            message.send(fail_silently=False)
        except (BadHeaderError, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, ValueError) as error:
            _email_failed(email, error, final=True)
        except (smtplib.SMTPException, OSError) as error:
            _email_failed(email, error, final=email.attempts >= settings.EMAIL_MAX_ATTEMPTS)
        else:
            email.status, email.sent_at, email.last_error = Email.Status.SENT, timezone.now(), ""
        email.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    if email.status == Email.Status.PENDING:
        raise EmailRetryable(email.last_error)
    return email


def _email_failed(email: Email, error: Exception, *, final: bool) -> None:
    email.last_error = f"{type(error).__name__}: {error}"[:500]
    if final:
        email.status = Email.Status.FAILED
    logger.error(
        "E-mail %s to %s failed (attempt %s%s): %s",
        email.pk, email.recipient, email.attempts, ", giving up" if final else "", email.last_error,
    )  # fmt: skip


def emails_retry() -> int:
    """Enqueue every waiting e-mail again (the periodic job: broker outages, embedded mode's retries)."""
    due = list(
        Email.objects.due().filter(created_at__lte=timezone.now() - EMAIL_RETRY_AFTER).values_list("pk", flat=True)
    )
    jobs.enqueue_many(EMAIL_TASK, {f"email:{email_id}": {"email_id": email_id} for email_id in due})
    return len(due)


def _notice_params(params: dict) -> dict:
    """A notice's parameters as its recipient reads them: amounts as money, dates in his locale's format."""
    formatted = {}
    for name, value in params.items():
        if isinstance(value, Decimal):
            # Every amount in a notice is money, in the CRM's currency (the `money` filter's rule).
            value = money(value)
        elif isinstance(value, datetime.datetime):
            value = formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        elif isinstance(value, datetime.date):
            value = formats.date_format(value, "SHORT_DATE_FORMAT")
        formatted[name] = value
    return formatted


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


@transaction.atomic
def password_changed(*, user: User, request=None, how: str, by: User | None = None) -> None:
    """After a password change or reset: every API token is revoked (Django ends the other sessions).

    Recorded in the login audit (`by`: the admin who set it), and the user is told by e-mail
    (someone else may have done it).
    """
    api_tokens_revoke(user=user, by=by, request=request)
    kind = SecurityEvent.Kind.PASSWORD_RESET if how == "reset" else SecurityEvent.Kind.PASSWORD_CHANGED
    event = security_event_record(kind=kind, user=user, by=by, request=request)
    _security_email(event)
    logger.info("Password %s for user %s from %s", how, user.pk, event.address)


# --- The login audit: sign-ins and changes of sign-in security ------------------------------


def _request_address(request) -> str | None:
    if request is None:
        return None
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def security_event_record(
    *,
    kind: str,
    user: User | None = None,
    username: str = "",
    by: User | None = None,
    request=None,
    detail: str = "",
) -> SecurityEvent:
    """Record one event of the login audit, in the caller's transaction (it commits or rolls back with it).

    The address is the one django-axes counts failures under (its proxy settings apply).
    """
    if user is not None and not username:
        username = user.get_username()
    if by is not None and user is not None and by.pk == user.pk:
        by = None  # `by` names someone else only
    agent = (getattr(request, "axes_user_agent", None) or get_client_user_agent(request)) if request else ""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=CONTROL_CHARACTERS.sub("", username or "")[:150],
        by=by,
        address=_request_address(request),
        user_agent=CONTROL_CHARACTERS.sub("", agent or "")[:200],
        detail=str(detail)[:200],
    )


def _security_email(event: SecurityEvent) -> None:
    """Tell the user by e-mail that his password or second factor changed (through the outbox)."""
    user = event.user
    if not user.email:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        what = event.get_kind_display()
        when = formats.date_format(timezone.localtime(event.created_at), "SHORT_DATETIME_FORMAT")
        subject = _("CoachCRM: %(what)s") % {"what": what}
        body = _(
            "Your CoachCRM account: %(what)s on %(when)s (address %(address)s).\n\n"
            "If this was you, there is nothing to do. If not, reset your password at once and tell an admin:\n%(link)s"
        ) % {
            "what": what,
            "when": when,
            "address": event.address or _("unknown"),
            "link": site_url(reverse("password_reset")),
        }
    email_queue(to=user.email, subject=subject, body=body)


def security_events_prune() -> int:
    """Delete the audit's events older than SECURITY_EVENTS_KEEP_DAYS; how many (a second run deletes none)."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.SECURITY_EVENTS_KEEP_DAYS)
    deleted, _by_model = SecurityEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- Two-factor sign-in (django-otp: TOTP apps, and recovery codes as a static device) -------

RECOVERY_CODES = 10


def mfa_required(user: User) -> bool:
    """Whether the user's role must sign in with a second factor (MFA_REQUIRED_ROLES)."""
    return user.role in settings.MFA_REQUIRED_ROLES


def mfa_enabled(user: User) -> bool:
    """Whether the user has a confirmed second factor."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def mfa_setup_start(*, user: User) -> TOTPDevice:
    """A new authenticator key for the user, unconfirmed until he enters a code from it."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


@transaction.atomic
def mfa_setup_confirm(*, user: User, code: str, request=None) -> list[str]:
    """Switch two-factor sign-in on with the pending key if the code fits; the new recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise ValidationError(_("Start the set-up again: there is no key waiting for a code."))
    if not device.verify_token(_code(code)):
        raise ValidationError({"code": _("That code does not match. Enter the 6 digits your app shows now.")})
    # One authenticator and one set of recovery codes at a time: setting up again replaces both.
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    StaticDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    recovery = StaticDevice.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    event = security_event_record(kind=SecurityEvent.Kind.MFA_ADDED, user=user, request=request)
    _security_email(event)
    logger.info("Second factor set up for user %s from %s", user.pk, event.address)
    return codes


def mfa_verify(*, user: User, code: str):
    """The device that accepts the code (an app's current code, or an unused recovery code), or None."""
    code = _code(code)
    if not code:
        return None
    for device in [*TOTPDevice.objects.filter(user=user, confirmed=True), *StaticDevice.objects.filter(user=user)]:
        # verify_token throttles after failures and spends a recovery code once.
        if device.verify_token(code):
            return device
    return None


@transaction.atomic
def mfa_reset(*, user: User, by: User, request=None) -> None:
    """Switch a user's second factor off (admins only; a lost phone): he sets it up again at the next login."""
    if not by.is_admin:
        raise ValidationError(_("Only an admin can reset another user's second factor."))
    deleted, _by_model = TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    if deleted:
        event = security_event_record(kind=SecurityEvent.Kind.MFA_REMOVED, user=user, by=by, request=request)
        _security_email(event)
    logger.warning("Second factor of user %s reset by admin %s", user.pk, by.pk)


def _code(code: str) -> str:
    return "".join((code or "").split()).lower()
