# Webhook endpoints and their deliveries (the delivery log, and the outbox the sender works from).
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    """The events an endpoint can subscribe to (the catalogue in docs/api.md)."""

    COACH_AT_RISK = "coach.at_risk", _("A coach is at risk (his holder is leaving)")
    COACH_ENDED = "coach.ended", _("A coach ended or lapsed")
    COACH_MOVED = "coach.moved", _("A coach moved to another company")
    OPPORTUNITY_SENT_BACK = "opportunity.sent_back", _("A deal was sent back for want of a coach")
    OPPORTUNITY_HELD_BACK = "opportunity.held_back", _("A deal is held back until a coach is recorded")
    OPPORTUNITY_WON = "opportunity.won", _("A deal was won")
    OPPORTUNITY_LOST = "opportunity.lost", _("A deal was lost")
    GRANT_PENDING = "grant.pending", _("A grant waits for a decision")
    GRANT_DECIDED = "grant.decided", _("A grant was approved or rejected")
    HANDOVER_OPENED = "handover.opened", _("A handover was opened")
    HANDOVER_DONE = "handover.done", _("A handover was done")
    ACCOUNT_MERGED = "account.merged", _("A duplicate account was merged into another")
    CONTACT_MERGED = "contact.merged", _("A duplicate person was merged into another")
    TASK_DUE = "task.due", _("A task falls due today")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def subscribed(self, event: str):
        """Active endpoints that take the event (an empty list means every event)."""
        return [hook for hook in self.active() if not hook.events or event in hook.events]


class Webhook(models.Model):
    """An endpoint events are POSTed to, signed with its secret."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Sent signed, so kept as it is (a hash could not sign); shown to the admin once, at creation.
    secret = models.CharField(_("secret"), max_length=100, default=new_secret, editable=False)
    events = models.JSONField(_("events"), default=list, blank=True, help_text=_("Empty: every event."))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Since when every attempt failed (cleared by a success); 24 hours of it disables the endpoint.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled for failures"), null=True, blank=True)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return self.url


class Delivery(models.Model):
    """One event for one endpoint: the payload, and how sending it went (retried until delivered or given up)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")  # given up: 24 hours of failures, or the endpoint disabled

    webhook = models.ForeignKey(Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries")
    # The X-CoachCRM-Delivery header: the receiver's key to drop a repeat (retries send the same id).
    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    response_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("last duration (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} → {self.webhook}"
