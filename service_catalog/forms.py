# Forms of the catalog, authority and grant pages.
from django import forms
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import Account, Contact, Employment
from coachcrm.forms import CrmForm, bound_choice, narrow_on_change
from pipeline.models import Opportunity
from service_catalog.models import MONEY, Authority, Grant, ServiceItem
from team.models import User


def money_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0, **MONEY, **kwargs)


class ServiceItemForm(CrmForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), choices=ServiceItem.Category.choices)
    unit_cost = money_field(_("Unit cost"))
    max_quantity = forms.IntegerField(
        label=_("Maximum quantity per grant"), min_value=1, required=False, help_text=_("Empty for no maximum.")
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    active = forms.BooleanField(label=_("Active (reps can grant it)"), required=False, initial=True)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_cost"].help_text = _("In %(currency)s.") % {"currency": currency}


def service_item_initial(item: ServiceItem) -> dict:
    return {f: getattr(item, f) for f in ServiceItemForm.base_fields}


class RecipientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        position = obj.current_positions[0] if obj.current_positions else None
        return f"{obj} — {position.account}" if position else str(obj)


class GrantForm(CrmForm):
    item = forms.ModelChoiceField(label=_("Item"), queryset=ServiceItem.objects.active())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    recipient = RecipientChoiceField(
        label=_("Recipient"), queryset=Contact.objects.none(), help_text=_("A person currently at the account.")
    )
    opportunity = forms.ModelChoiceField(
        label=_("Opportunity"),
        queryset=Opportunity.objects.none(),
        required=False,
        help_text=_("Optional: the deal this grant supports, at the same account."),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=Grant.Reason.choices)
    details = forms.CharField(label=_("Details"), max_length=300, required=False)

    def __init__(self, *args, user: User, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = access.accounts(user)
        self.fields["account"].queryset = accounts.only("pk", "name")
        # Once an account is chosen (on the page, or in a posted form) only its people and deals are offered.
        account = account or bound_choice(self, "account", accounts)
        where = accounts.filter(pk=account.pk) if account is not None else accounts
        self.fields["opportunity"].queryset = (
            Opportunity.objects.open().filter(account__in=where).select_related("account").order_by("name")
        )
        self.fields["opportunity"].label_from_instance = lambda deal: f"{deal.name} · {deal.account.name}"
        self.fields["recipient"].queryset = (
            Contact.objects.filter(pk__in=Employment.objects.current().filter(account__in=where).values("contact_id"))
            .prefetch_related(
                Prefetch(
                    "employments",
                    queryset=Employment.objects.current().select_related("account"),
                    to_attr="current_positions",
                )
            )
            .order_by("last_name", "first_name", "pk")
        )
        narrow_on_change(self, "account", ["recipient", "opportunity"], reverse("service_catalog:grant-create"))


class DecisionForm(CrmForm):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class AuthorityForm(CrmForm):
    role = forms.ChoiceField(label=_("Role"), choices=[("", "—"), *User.Role.choices], required=False)
    user = forms.ModelChoiceField(
        label=_("Or one user"),
        queryset=User.objects.active(),
        required=False,
        help_text=_("A user's row replaces his role's limits."),
    )
    per_grant = money_field(_("Limit per grant"), required=False)
    per_month = money_field(_("Limit per rep per calendar month"), required=False)
    per_account_year = money_field(_("Limit per account per calendar year"), required=False)
    per_recipient_year = money_field(_("Limit per recipient per calendar year"), required=False)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        for name in Authority.LIMIT_FIELDS:
            self.fields[name].help_text = _("In %(currency)s; empty for no limit.") % {"currency": currency}


def authority_initial(authority: Authority) -> dict:
    return {"role": authority.role, "user": authority.user_id, **authority.limits()}
