# Pages of the webhook endpoints (admins): the list, add and edit, enable/disable, the secret, the delivery log.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import access
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from webhooks import services
from webhooks.forms import WebhookForm, webhook_initial
from webhooks.models import Webhook

# The session key holding a secret just generated, until the endpoint's page has shown it once.
SHOWN_ONCE_SESSION_KEY = "webhooks.secret"


def _require_admin(request) -> None:
    # Webhook pages are out of scope for everyone else: 404, like the territory pages.
    if not request.user.is_admin:
        raise Http404


def _secret_show_once(request, webhook: Webhook) -> None:
    # Kept in the session across the redirect (never in a message cookie or the URL) and dropped
    # by the first page that shows it: a reload shows it no more.
    request.session[SHOWN_ONCE_SESSION_KEY] = {"webhook": webhook.pk, "secret": webhook.secret}


@require_GET
def webhook_list(request):
    _require_admin(request)
    webhooks = access.webhooks(request.user).order_by("pk")
    return render(request, "webhooks/webhook_list.html", {"webhooks": webhooks})


@require_http_methods(["GET", "POST"])
def webhook_create(request):
    _require_admin(request)
    form = WebhookForm(request.POST or None)
    if form.is_valid():
        try:
            webhook = services.webhook_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            _secret_show_once(request, webhook)
            messages.success(request, _("Webhook %(url)s added.") % {"url": webhook.url})
            return redirect("webhooks:webhook-detail", webhook.pk)
    return render(request, "webhooks/webhook_form.html", {"form": form})


@require_GET
def webhook_detail(request, pk):
    webhook = access.get(request.user, Webhook, pk)
    shown = request.session.get(SHOWN_ONCE_SESSION_KEY)
    secret = None
    if shown and shown.get("webhook") == webhook.pk:
        secret = request.session.pop(SHOWN_ONCE_SESSION_KEY)["secret"]
    page = paginate(request, access.deliveries(request.user, webhook.deliveries.order_by("-created_at", "-pk")))
    return render(request, "webhooks/webhook_detail.html", {"webhook": webhook, "secret": secret, "page": page})


@require_http_methods(["GET", "POST"])
def webhook_update(request, pk):
    webhook = access.get(request.user, Webhook, pk)
    form = WebhookForm(request.POST or None, initial=webhook_initial(webhook))
    if form.is_valid():
        try:
            services.webhook_update(webhook=webhook, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("webhooks:webhook-detail", webhook.pk)
    return render(request, "webhooks/webhook_form.html", {"form": form, "webhook": webhook})


@require_POST
def webhook_active(request, pk):
    """Disable an endpoint (nothing more is sent to it) or enable it again (its failures forgotten)."""
    webhook = access.get(request.user, Webhook, pk)
    active = request.POST.get("active") == "true"
    services.webhook_update(webhook=webhook, by=request.user, active=active)
    if active:
        messages.success(request, _("Webhook enabled: events are sent to it again."))
    else:
        messages.success(request, _("Webhook disabled: no events are sent to it."))
    return redirect("webhooks:webhook-detail", webhook.pk)


@require_POST
def webhook_rotate_secret(request, pk):
    webhook = services.webhook_rotate_secret(webhook=access.get(request.user, Webhook, pk), by=request.user)
    _secret_show_once(request, webhook)
    messages.success(request, _("New secret generated: deliveries are signed with it from now on."))
    return redirect("webhooks:webhook-detail", webhook.pk)


@require_POST
def delivery_redeliver(request, pk, delivery_pk):
    webhook = access.get(request.user, Webhook, pk)
    delivery = access.get(request.user, webhook.deliveries.all(), delivery_pk)
    try:
        services.delivery_redeliver(delivery=delivery, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Delivery queued again."))
    return redirect("webhooks:webhook-detail", webhook.pk)
