# List filters (django-filter) of the login audit: the admins' page and its API endpoint use the same set.
import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coachcrm.filters import CrmFilterSet
from coachcrm.forms import DateInput
from coachcrm.inputs import date_check
from team.models import SecurityEvent, User


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SecurityEventFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        for field in ("date_from", "date_to"):
            try:
                date_check(data.get(field), field=field)
            except ValidationError as error:
                self.add_error(None, error)  # a {field: error}: it lands on that field
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The period ends before it starts: pick an end date on or after the start."))
        return data


class SecurityEventFilter(CrmFilterSet):
    user = django_filters.ModelChoiceFilter(
        label=gettext_lazy("User"), queryset=User.objects.order_by("username"), empty_label=gettext_lazy("Everyone")
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Event"), choices=SecurityEvent.Kind.choices, empty_label=gettext_lazy("Any event")
    )
    date_from = django_filters.DateFilter(label=gettext_lazy("From"), method="on_or_after", widget=DateInput())
    date_to = django_filters.DateFilter(label=gettext_lazy("To"), method="on_or_before", widget=DateInput())

    class Meta:
        model = SecurityEvent
        fields = ["user", "kind", "date_from", "date_to"]
        form = SecurityEventFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault(
                "class",
                "form-select form-select-sm"
                if isinstance(field, forms.ChoiceField)
                else "form-control form-control-sm",
            )

    def on_or_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def on_or_before(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + datetime.timedelta(days=1)))
