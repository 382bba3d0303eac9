# List filters (django-filter) for the ledger.
import datetime

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachcrm.filters import CrmFilterSet
from coachcrm.inputs import IdFilter
from service_catalog.models import Grant, month_bounds

# The years a ledger can be asked for: beyond them a year's dates fall outside datetime's range.
YEARS = (2000, 9000)


class GrantFilter(CrmFilterSet):
    """Ledger filters. Account, recipient and rep come as ids from the ledger's links."""

    account = IdFilter(field_name="account_id", widget=django_filters.widgets.forms.HiddenInput)
    recipient = IdFilter(field_name="recipient_id", widget=django_filters.widgets.forms.HiddenInput)
    rep = IdFilter(field_name="rep_id", widget=django_filters.widgets.forms.HiddenInput)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Grant.Status.choices)
    # Bounded: a year outside datetime's range (the API gets fuzzed with 0) would be a server error.
    year = django_filters.NumberFilter(label=_("Year"), method="filter_year", min_value=YEARS[0], max_value=YEARS[1])
    month = django_filters.ChoiceFilter(
        label=_("Month"), choices=[(m, f"{m:02d}") for m in range(1, 13)], method="filter_month"
    )

    class Meta:
        model = Grant
        fields = ["account", "recipient", "rep", "status", "year", "month"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["year"].widget.attrs.update({"class": "form-control form-control-sm", "min": YEARS[0]})
        for name in ("status", "month"):
            self.form.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def filter_year(self, queryset, name, value):
        return queryset.in_year(int(value))

    def filter_month(self, queryset, name, value):
        year = self.form.cleaned_data.get("year") or timezone.localdate().year
        return queryset.in_period(*month_bounds(datetime.date(int(year), int(value), 1)))
