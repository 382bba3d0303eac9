# List filters (django-filter) for the deal list and board.
import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ProductLine, Region
from coachcrm.filters import CrmFilterSet
from csvio.filters import ExternalIdFilters
from pipeline.dashboard import in_period, stage_entries, stage_exits
from pipeline.models import Opportunity, Stage, StageChange
from team.models import User

# Filters the dashboard's figures link with: honoured, kept as hidden inputs, not shown as fields.
DRILLDOWN_FILTERS = [
    "team",
    "region",
    "product_line",
    "has_coach",
    "had_coach",
    "closed_from",
    "closed_to",
    "entered_stage",
    "outcome",
    "left_stage",
    "left_kind",
    "moved_from",
    "moved_to",
]


class OpportunityFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all())
    status = django_filters.ChoiceFilter(choices=Opportunity.Status.choices)
    held_back = django_filters.BooleanFilter(label=_("Held back"))
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team of"), queryset=User.objects.none(), method="in_team")
    region = django_filters.ModelChoiceFilter(field_name="account__region", queryset=Region.objects.all())
    product_line = django_filters.ModelChoiceFilter(queryset=ProductLine.objects.all())
    has_coach = django_filters.BooleanFilter(label=_("Account has an active coach"))
    had_coach = django_filters.BooleanFilter(field_name="had_coach_at_close", label=_("Had a coach at close"))
    closed_from = django_filters.DateFilter(method="closed_within")
    closed_to = django_filters.DateFilter(method="closed_within")
    entered_stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), method="entered")
    outcome = django_filters.ChoiceFilter(
        choices=[("advanced", _("Moved on")), ("dropped", _("Dropped"))], method="along"
    )
    left_stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), method="left")
    left_kind = django_filters.ChoiceFilter(choices=StageChange.Kind.choices, method="along")
    moved_from = django_filters.DateFilter(method="along")
    moved_to = django_filters.DateFilter(method="along")

    class Meta:
        model = Opportunity
        fields = ["q", "stage", "status", "held_back", "owner"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.drilldown = list(DRILLDOWN_FILTERS)
        fields = self.form.fields
        if user.is_rep:
            # A rep's own deals, for the links of his dashboard; his list shows no owner field.
            fields["owner"].queryset = User.objects.filter(pk=user.pk)
            self.drilldown.append("owner")
        else:
            fields["owner"].queryset = User.objects.all() if user.is_admin else User.objects.team_of(user)
        fields["team"].queryset = User.objects.filter(pk=user.pk) if not user.is_admin else User.objects.all()
        for field in fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm")

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(account__name__icontains=value))

    def in_team(self, queryset, name, value):
        return queryset.filter(owner__in=User.objects.team_of(value))

    def closed_within(self, queryset, name, value):
        # The dashboard's own period test (local days as a datetime range), so its figures and
        # the list they link to agree.
        return queryset.filter(in_period("closed_at", **{"start" if name == "closed_from" else "end": value}))

    def along(self, queryset, name, value):
        # Read by `entered` and `left`; on its own it filters nothing.
        return queryset

    def _period(self) -> dict:
        return {"start": self.form.cleaned_data.get("moved_from"), "end": self.form.cleaned_data.get("moved_to")}

    def entered(self, queryset, name, value):
        """Deals that entered the stage in the period, the same rows the dashboard's conversion counts."""
        moves = stage_entries(**self._period()).filter(to_stage=value)
        outcome = self.form.cleaned_data.get("outcome")
        if outcome == "advanced":
            moves = moves.filter(advanced=True)
        elif outcome == "dropped":
            moves = moves.filter(dropped=True, advanced=False)
        return queryset.filter(pk__in=moves.values("opportunity"))

    def left(self, queryset, name, value):
        """Deals that left the stage in the period (optionally only by one kind of move)."""
        moves = stage_exits(**self._period()).filter(from_stage=value)
        if kind := self.form.cleaned_data.get("left_kind"):
            moves = moves.filter(kind=kind)
        return queryset.filter(pk__in=moves.values("opportunity"))

    @property
    def drilldown_values(self) -> list[tuple[str, str]]:
        """The drill-down parameters in use, to carry along as hidden inputs."""
        return [(name, self.data[name]) for name in self.drilldown if self.data.get(name) not in (None, "")]


class OpportunityApiFilter(ExternalIdFilters):
    """The API's opportunity filters (the page's drill-down ones stay with the page)."""

    class Meta:
        model = Opportunity
        fields = ["stage", "status", "owner", "held_back"]
