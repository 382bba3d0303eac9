from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Industry, ProductLine, Region
from coachcrm.forms import CrmForm
from team.models import Territory, User


class TerritoryRuleForm(CrmForm):
    """The four conditions of a rule; empty means "any"."""

    region = forms.ModelChoiceField(
        label=_("Region"), queryset=Region.objects.all(), required=False, empty_label=_("Any")
    )
    product_line = forms.ModelChoiceField(
        label=_("Product line"), queryset=ProductLine.objects.all(), required=False, empty_label=_("Any")
    )
    size_tier = forms.ChoiceField(
        label=_("Size tier"), choices=[("", _("Any")), *Account.SizeTier.choices], required=False
    )
    industry = forms.ModelChoiceField(
        label=_("Industry"), queryset=Industry.objects.all(), required=False, empty_label=_("Any")
    )


class TerritoryForm(TerritoryRuleForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("New accounts go to them in turn; anyone leaving or departed is skipped."),
    )

    field_order = ["name", "members", "region", "product_line", "size_tier", "industry"]

    def __init__(self, *args, territory: Territory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        reps = User.objects.reps().available()
        if territory is not None:
            # Someone who has left stays listed (and ticked) until an admin removes him.
            reps = reps | territory.members.all()
        self.fields["members"].queryset = reps.distinct()


def territory_initial(territory: Territory) -> dict:
    return {
        "name": territory.name,
        "members": list(territory.members.all()),
        "region": territory.region_id,
        "product_line": territory.product_line_id,
        "size_tier": territory.size_tier,
        "industry": territory.industry_id,
    }
