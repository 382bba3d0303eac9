# The webhook page's form; the rules (SSRF guard, known events) are the services' and land here as errors.
from django import forms
from django.utils.translation import gettext_lazy as _

from coachcrm.forms import CrmForm
from webhooks.models import Event, Webhook


class WebhookForm(CrmForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the events are POSTed; a public http or https address."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=Event.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )


def webhook_initial(webhook: Webhook) -> dict:
    return {"url": webhook.url, "description": webhook.description, "events": webhook.events}
