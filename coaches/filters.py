# List filters (django-filter) for the coach lists.
import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.models import Region
from coachcrm.filters import CrmFilterSet
from coaches.models import Coach, Holder
from team.models import User


class CoachFilter(CrmFilterSet):
    """The coach list's filters; the dashboard's coach-health figures link with them."""

    health = django_filters.ChoiceFilter(
        label=_("Health"),
        choices=[
            ("active", _("Active")),
            ("single_threaded", _("Single-threaded")),
            ("touch_due", _("Touch due")),
            ("stale", _("Stale")),
            ("at_risk", _("At risk")),
        ],
        method="by_health",
    )
    holder = django_filters.ModelChoiceFilter(queryset=User.objects.all(), method="held_by")
    team = django_filters.ModelChoiceFilter(queryset=User.objects.all(), method="held_by_team")
    region = django_filters.ModelChoiceFilter(field_name="account__region", queryset=Region.objects.all())

    class Meta:
        model = Coach
        fields = ["health", "holder", "team", "region"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["health"].widget.attrs["class"] = "form-select form-select-sm"

    def by_health(self, queryset, name, value):
        # The same QuerySet methods the dashboard counts with.
        subset = {
            "active": Coach.objects.active(),
            "single_threaded": Coach.objects.single_threaded(),
            "touch_due": Coach.objects.touch_due(),
            "stale": Coach.objects.stale(),
            "at_risk": Coach.objects.at_risk(),
        }[value]
        return queryset.filter(pk__in=subset.values("pk"))

    def held_by(self, queryset, name, value):
        return queryset.filter(pk__in=Holder.objects.filter(user=value).values("coach_id"))

    def held_by_team(self, queryset, name, value):
        return queryset.filter(pk__in=Holder.objects.filter(user__in=User.objects.team_of(value)).values("coach_id"))

    @property
    def hidden_values(self) -> list[tuple[str, str]]:
        return [(name, self.data[name]) for name in ("holder", "team", "region") if self.data.get(name)]
