# Forms of the coach pages: record, verify, status, holders, interactions, style reports.
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import Account, Contact
from coachcrm.forms import CrmForm, DateInput, bound_choice, narrow_on_change
from coaches.models import BuyingStyle, Coach, Interaction, StyleReport
from team.models import User


class CriteriaFields(forms.Form):
    strength = forms.ChoiceField(label=_("Strength"), choices=Coach.Strength.choices, initial=Coach.Strength.COACH)
    credible = forms.BooleanField(label=_("Credible with the buying influences"), required=False)
    credible_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    trusts_us = forms.BooleanField(label=_("Trusts us (we have credibility with them)"), required=False)
    trusts_us_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    wants_us_to_win = forms.BooleanField(label=_("Wants us to win"), required=False)
    wants_us_to_win_note = forms.CharField(label=_("Note"), max_length=300, required=False)
    has_power = forms.BooleanField(label=_("Has power and influence"), required=False)


class CoachForm(CriteriaFields, CrmForm):
    """Record a coach: who, where, and the criteria, in one short form."""

    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    contact = forms.ModelChoiceField(label=_("Person"), queryset=Contact.objects.none())

    field_order = ["account", "contact", "strength"]

    def __init__(self, *args, user: User, account: Account | None = None, contact: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = access.accounts(user).only("pk", "name")
        contacts = access.contacts(user)
        # A posted account narrows the people too, so a form shown again lists only its people.
        account = account or bound_choice(self, "account", accounts)
        if account is not None:
            # Only the people who work there now: anyone else would be refused.
            contacts = contacts.filter(employments__account=account, employments__end_date__isnull=True)
            self.initial["account"] = account.pk
        if contact is not None:
            accounts = accounts.filter(employments__contact=contact, employments__end_date__isnull=True)
            self.initial["contact"] = contact.pk
            if account is None and (current := accounts.first()):
                self.initial["account"] = current.pk
        self.fields["account"].queryset = accounts
        self.fields["contact"].queryset = contacts.order_by("last_name", "first_name")
        narrow_on_change(self, "account", ["contact"], reverse("coaches:coach-create"))


class CoachVerifyForm(CriteriaFields, CrmForm):
    pass


def coach_criteria_initial(coach: Coach) -> dict:
    return {name: getattr(coach, name) for name in CriteriaFields.base_fields}


class InlineForm(CrmForm):
    """A form laid out by hand in a row of the coach page: small Bootstrap controls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                field.widget.attrs.setdefault("class", "form-control form-control-sm")


class CoachStatusForm(InlineForm):
    status = forms.ChoiceField(label=_("New status"), choices=Coach.Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class CadenceForm(InlineForm):
    cadence_days = forms.IntegerField(label=_("Touch every (days)"), required=False, min_value=1, max_value=365)


class HolderForm(InlineForm):
    user = forms.ModelChoiceField(label=_("Rep"), queryset=User.objects.none())
    is_primary = forms.BooleanField(label=_("Make primary"), required=False)

    def __init__(self, *args, coach: Coach, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.active().exclude(coach_holdings__coach=coach)


class InteractionForm(InlineForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Interaction.Kind.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class StyleReportForm(CrmForm):
    coach = forms.ModelChoiceField(label=_("Reported by coach"), queryset=Coach.objects.none())
    style = forms.ChoiceField(label=_("Buying style"), choices=BuyingStyle.choices)
    confidence = forms.ChoiceField(
        label=_("Confidence"), choices=StyleReport.Confidence.choices, initial=StyleReport.Confidence.MEDIUM
    )
    reported_on = forms.DateField(label=_("Reported on"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user: User, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        # Our active coaches where the person works now: the only ones the service accepts.
        self.fields["coach"].queryset = (
            access.coaches(user)
            .active()
            .filter(account__employments__contact=contact, account__employments__end_date__isnull=True)
            .select_related("contact", "account")
        )
