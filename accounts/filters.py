# List filters (django-filter) for the account and contact lists, on the pages and in the API.
import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, Industry, Region
from coachcrm.filters import CrmFilterSet
from coachcrm.inputs import IdFilter
from team.models import User


class AccountFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    # Explicit lazy labels: a label django-filter derives from the model is a plain string in
    # whatever language was active when it was first built.
    region = django_filters.ModelChoiceFilter(label=_("Region"), queryset=Region.objects.all())
    industry = django_filters.ModelChoiceFilter(label=_("Industry"), queryset=Industry.objects.all())
    size_tier = django_filters.ChoiceFilter(label=_("Size tier"), choices=Account.SizeTier.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())

    class Meta:
        model = Account
        fields = ["q", "region", "industry", "size_tier", "owner"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The API's filter backend passes the request rather than the user.
        user = user or self.request.user
        if user.is_rep:
            # A rep sees only his own accounts, so there is no owner to choose.
            self.drop("owner")
        else:
            owners = User.objects.all() if user.is_admin else User.objects.team_of(user)
            self.form.fields["owner"].queryset = owners
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "form-select form-select-sm")

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(notes__icontains=value))


class ContactFilter(CrmFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    account = IdFilter(label=_("Current account"), method="at_account")

    class Meta:
        model = Contact
        fields = ["q", "account"]

    def at_account(self, queryset, name, value):
        return queryset.filter(employments__account=value, employments__end_date__isnull=True)

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(employments__title__icontains=value, employments__end_date__isnull=True)
        ).distinct()
