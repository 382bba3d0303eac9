from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, ProductLine
from coachcrm.forms import CrmForm, DateInput
from pipeline.models import Opportunity, OpportunityContact, Stage
from team.models import User


class OpportunityForm(CrmForm):
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    product_line = forms.ModelChoiceField(label=_("Product line"), queryset=ProductLine.objects.all())
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=0)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.open(), required=False)
    expected_close = forms.DateField(label=_("Expected close"), widget=DateInput(), required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, user: User, opportunity: Opportunity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user).only("pk", "name")
        self.fields["amount"].label = _("Amount (%(currency)s)") % {"currency": settings.CRM_CURRENCY}
        if opportunity is not None:
            # The account and the stage never change here: the stage moves through the gate.
            del self.fields["account"], self.fields["stage"]
        else:
            self.fields["stage"].help_text = _("Empty: the first stage.")
        if user.is_rep:
            del self.fields["owner"]
        else:
            team = User.objects.active() if user.is_admin else User.objects.active().team_of(user)
            self.fields["owner"].queryset = team
            self.fields["owner"].help_text = _("Leave empty to own it yourself.")


def opportunity_form_initial(opportunity: Opportunity) -> dict:
    return {f: getattr(opportunity, f) for f in ("name", "product_line", "amount", "expected_close", "owner")}


class OpportunityMoveForm(CrmForm):
    stage = forms.ModelChoiceField(
        label=_("Move to"), queryset=Stage.objects.all(), widget=forms.Select(attrs={"class": "form-select"})
    )
    reason = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )


class OpportunityOverrideForm(CrmForm):
    stage = forms.ModelChoiceField(label=_("Let it into"), queryset=Stage.objects.none())
    reason = forms.CharField(
        label=_("Why may it pass without a coach?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(requires_coach=True) | Stage.objects.filter(is_won=True)


class OpportunityContactForm(CrmForm):
    contact = forms.ModelChoiceField(label=_("Person"), queryset=Contact.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=OpportunityContact.Role.choices)

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        # The people who work at the deal's account now (he may see them: he sees the deal's account).
        self.fields["contact"].queryset = Contact.objects.filter(
            employments__account_id=opportunity.account_id, employments__end_date__isnull=True
        ).order_by("last_name", "first_name")
        for name, css in (("contact", "form-select form-select-sm"), ("role", "form-select form-select-sm")):
            self.fields[name].widget.attrs["class"] = css
