import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pipeline.models import Opportunity, Stage
from team.models import User


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all())
    status = django_filters.ChoiceFilter(choices=Opportunity.Status.choices)
    held_back = django_filters.BooleanFilter(label=_("Held back"))
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none())

    class Meta:
        model = Opportunity
        fields = ["q", "stage", "status", "held_back", "owner"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_rep:
            del self.filters["owner"]
        else:
            self.filters["owner"].queryset = User.objects.all() if user.is_admin else User.objects.team_of(user)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm")

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(account__name__icontains=value))
