# Django admin for webhook endpoints and their delivery log; writes go through the services.
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from webhooks import services
from webhooks.models import Delivery, Event, Webhook


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=Event.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )

    class Meta:
        model = Webhook
        fields = ["url", "description", "events", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            services.webhook_url_check(url)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["url", "description", "active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["active"]
    fields = ["url", "description", "events", "active", "failing_since", "disabled_at", "created_by", "created_at"]
    readonly_fields = ["failing_since", "disabled_at", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("url", "description", "events", "active")}
        if change:
            services.webhook_update(webhook=Webhook.objects.get(pk=obj.pk), by=request.user, **data)
            return
        created = services.webhook_create(by=request.user, **data)
        obj.pk = created.pk
        # The only time the secret is shown: receivers need it to check the signatures.
        messages.warning(
            request,
            _("Secret for %(url)s (shown once; give it to the receiver): %(secret)s")
            % {"url": created.url, "secret": created.secret},
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    # Status first: on a phone what happened is on screen, the long URL last.
    list_display = ["event", "status", "attempts", "response_code", "created_at", "duration_ms", "webhook"]
    list_filter = ["status", "event"]
    list_select_related = ["webhook"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Redeliver selected deliveries"))
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset.select_related("webhook"):
            try:
                services.delivery_redeliver(delivery=delivery, by=request.user)
                sent += 1
            except ValidationError as error:
                messages.error(request, f"{delivery}: {' '.join(error.messages)}")
        if sent:
            messages.success(request, _("%(count)s deliveries queued again.") % {"count": sent})
