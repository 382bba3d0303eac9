# Webhook writes: registering endpoints, emitting events (a delivery row per endpoint), sending one delivery.
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coachcrm import jobs
from coachcrm.bulk import delete_in_batches
from team.models import User
from team.services import notify
from webhooks.models import Delivery, Event, Webhook, new_secret

# Retries back off exponentially from a minute to an hour between attempts; a delivery that has
# not gone through within RETRY_WINDOW is given up, and an endpoint failing that long is disabled.
RETRY_WINDOW = datetime.timedelta(hours=24)
FIRST_RETRY = datetime.timedelta(minutes=1)
MAX_RETRY = datetime.timedelta(hours=1)
TIMEOUT_SECONDS = 10


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-CoachCRM-Signature value: `sha256=` and the hex HMAC-SHA256 of "<timestamp>.<body>"."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# --- Endpoints ------------------------------------------------------------------------------


def webhook_url_check(url: str) -> None:
    """Refuse a target on a private, loopback or link-local address (SSRF), unless WEBHOOKS_ALLOW_PRIVATE."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": _("Give an http or https URL.")})
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError):
        raise ValidationError({"url": _("The host %(host)s cannot be resolved.") % {"host": parts.hostname}}) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            message = _("%(host)s is a private or local address; webhooks go to public addresses only.")
            raise ValidationError({"url": ValidationError(message % {"host": parts.hostname}, code="private_address")})


def webhook_events_check(events) -> list[str]:
    """The events as a list without repeats; an unknown one is refused."""
    events = list(dict.fromkeys(events or []))
    unknown = [event for event in events if event not in Event.values]
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(names)s.") % {"names": ", ".join(map(str, unknown))}})
    return events


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can manage webhooks."), code="permission_denied")


@transaction.atomic
def webhook_create(*, by: User, url: str, events=(), description: str = "", active: bool = True) -> Webhook:
    """Register an endpoint; its secret is generated here and shown to the admin once."""
    _require_admin(by)
    webhook_url_check(url)
    return Webhook.objects.create(
        url=url, events=webhook_events_check(events), description=description.strip(), active=active, created_by=by
    )


@transaction.atomic
def webhook_update(*, webhook: Webhook, by: User, **fields) -> Webhook:
    """Change an endpoint's URL, events, description or state; re-activating it clears its failures."""
    _require_admin(by)
    if "url" in fields:
        webhook_url_check(fields["url"])
    if "events" in fields:
        fields["events"] = webhook_events_check(fields["events"])
    if fields.get("active") and not webhook.active:
        webhook.failing_since = webhook.disabled_at = None
    for field, value in fields.items():
        setattr(webhook, field, value)
    webhook.save()
    return webhook


@transaction.atomic
def webhook_rotate_secret(*, webhook: Webhook, by: User) -> Webhook:
    """Give the endpoint a new secret (shown to the admin once); every later attempt is signed with it."""
    _require_admin(by)
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    return webhook


# --- Events ---------------------------------------------------------------------------------


def _enqueue(delivery_pk: int) -> None:
    """Send a delivery once the write commits: the one place that enqueues webhook work.

    Through the outbox (by task name: the tasks module imports this one), recorded in the event's
    transaction; the `webhooks-deliver-due` sweep also sends whatever is still pending.
    """
    jobs.enqueue("webhooks.tasks.webhook_deliver_task", key=f"webhooks.deliver:{delivery_pk}", delivery_pk=delivery_pk)


def event_emit(*, event: str, data: dict) -> list[Delivery]:
    """Record the event for every active endpoint that takes it, to be sent after the commit.

    Call it inside the write's transaction: the event goes out if and only if the write commits.
    `data` carries ids and the fields a receiver needs, nothing an admin could not see.
    """
    return events_emit(event=event, items=[data])


def events_emit(*, event: str, items: list[dict]) -> list[Delivery]:
    """event_emit for many occurrences of one event (a sweep's): one delivery per endpoint and item."""
    if event not in Event.values:
        raise ValueError(f"unknown webhook event {event!r}")
    hooks = Webhook.objects.subscribed(event) if items else []
    if not hooks:
        return []
    now = timezone.now()
    deliveries = []
    for hook in hooks:
        for data in items:
            delivery = Delivery(webhook=hook, event=event, created_at=now, next_attempt_at=now, payload={})
            delivery.payload = json.loads(
                json.dumps(
                    {"id": str(delivery.delivery_id), "event": event, "created_at": now, "data": data},
                    cls=DjangoJSONEncoder,
                )
            )
            deliveries.append(delivery)
    Delivery.objects.bulk_create(deliveries)
    for delivery in Delivery.objects.filter(delivery_id__in=[d.delivery_id for d in deliveries]):
        _enqueue(delivery.pk)
    return deliveries


# --- Sending --------------------------------------------------------------------------------


def _post(*, url: str, body: bytes, headers: dict) -> int:
    """POST the body and answer the response's status code; redirects are not followed.

    http.client rather than urllib: it keeps the headers' case as documented, and a redirect
    (which could point at an internal address) is simply a failed delivery.
    """
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # enough to free the connection; the body is not kept
        return response.status
    finally:
        connection.close()


def _backoff(attempts: int) -> datetime.timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def delivery_send(*, delivery_pk: int) -> str:
    """Send one delivery now; a success is final, a failure is retried later (a second run changes nothing)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("webhook")
            .filter(pk=delivery_pk, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return "skipped"  # delivered, given up, or being sent by another worker
        hook = delivery.webhook
        if not hook.active:
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
            delivery.last_error = "the endpoint is inactive"
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return delivery.status
        # Claimed for this attempt: a concurrent sweep skips it until the outcome is written.
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + _backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "next_attempt_at"])

    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CoachCRM-Webhooks/1",
        "X-CoachCRM-Event": delivery.event,
        "X-CoachCRM-Delivery": str(delivery.delivery_id),
        "X-CoachCRM-Timestamp": str(timestamp),
        "X-CoachCRM-Signature": signature(secret=hook.secret, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    code, error = None, ""
    try:
        webhook_url_check(hook.url)  # again at sending: the name may resolve elsewhere by now
        code = _post(url=hook.url, body=body, headers=headers)
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    except (OSError, ValueError, http.client.HTTPException) as failure:  # refused, timed out, TLS, bad answer
        error = str(failure) or failure.__class__.__name__
    duration = int((time.monotonic() - started) * 1000)
    return _delivery_outcome(delivery_pk=delivery.pk, code=code, error=error, duration_ms=duration)


@transaction.atomic
def _delivery_outcome(*, delivery_pk: int, code: int | None, error: str, duration_ms: int) -> str:
    delivery = Delivery.objects.select_for_update().select_related("webhook").get(pk=delivery_pk)
    hook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
    now = timezone.now()
    delivery.response_code, delivery.duration_ms = code, duration_ms
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = (
            Delivery.Status.DELIVERED,
            now,
            None,
            "",
        )
        delivery.save()
        if hook.failing_since:
            hook.failing_since = None
            hook.save(update_fields=["failing_since"])
        return delivery.status
    delivery.last_error = (error or _("The endpoint answered %(code)s.") % {"code": code})[:500]
    if now - delivery.created_at >= RETRY_WINDOW:
        delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
    delivery.save()
    if hook.failing_since is None:
        hook.failing_since = now
        hook.save(update_fields=["failing_since"])
    elif hook.active and now - hook.failing_since >= RETRY_WINDOW:
        _webhook_disable(hook=hook, now=now)
    return delivery.status


def _webhook_disable(*, hook: Webhook, now: datetime.datetime) -> None:
    hook.active, hook.disabled_at = False, now
    hook.save(update_fields=["active", "disabled_at"])
    hook.deliveries.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, next_attempt_at=None, last_error="the endpoint was disabled"
    )
    for admin in {hook.created_by, *User.objects.filter(role=User.Role.ADMIN, is_active=True)}:
        notify(
            user=admin,
            message=gettext_lazy("Webhook %(url)s was disabled: every delivery failed for 24 hours."),
            params={"url": hook.url},
            link=reverse("webhooks:webhook-detail", args=[hook.pk]),
        )


def deliveries_due(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt has come (the sweep's work list, oldest first)."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def deliveries_prune(*, now: datetime.datetime | None = None) -> int:
    """Periodic: delete delivered deliveries older than WEBHOOK_DELIVERIES_RETENTION_DAYS (pending and failed stay)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.WEBHOOK_DELIVERIES_RETENTION_DAYS)
    return delete_in_batches(Delivery.objects.filter(status=Delivery.Status.DELIVERED, created_at__lt=cutoff))


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, by: User) -> Delivery:
    """Send a delivery again (same delivery id, so a receiver that got it drops the repeat)."""
    _require_admin(by)
    if not delivery.webhook.active:
        raise ValidationError(_("The endpoint is inactive: activate it first."), code="webhook_inactive")
    now = timezone.now()
    # A fresh 24-hour window from now; the attempt count goes on.
    delivery.status, delivery.created_at, delivery.next_attempt_at = Delivery.Status.PENDING, now, now
    delivery.save(update_fields=["status", "created_at", "next_attempt_at"])
    _enqueue(delivery.pk)
    return delivery
