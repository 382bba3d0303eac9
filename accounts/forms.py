# Forms of the account, person, position, move and territory pages.
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import Account, Contact, Employment, Industry, ProductLine, Region, Territory
from coachcrm.forms import CrmForm, DateInput
from team.models import User


class AccountForm(CrmForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all())
    industry = forms.ModelChoiceField(label=_("Industry"), queryset=Industry.objects.all())
    size_tier = forms.ChoiceField(label=_("Size tier"), choices=Account.SizeTier.choices, initial=Account.SizeTier.MID)
    product_lines = forms.ModelMultipleChoiceField(
        label=_("Product lines"),
        queryset=ProductLine.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    reason = forms.CharField(
        label=_("Why the owner changes"),
        max_length=200,
        required=False,
        help_text=_("Needed when you give the account to someone else; kept in its history."),
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user: User, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_rep or not editing:
            del self.fields["reason"]
        if user.is_rep:
            del self.fields["owner"]
        else:
            team = User.objects.active() if user.is_admin else User.objects.active().team_of(user)
            self.fields["owner"].queryset = team
            self.fields["owner"].help_text = _("Leave empty to own it yourself.")


def account_form_initial(account: Account) -> dict:
    return {
        "name": account.name,
        "region": account.region_id,
        "industry": account.industry_id,
        "size_tier": account.size_tier,
        "product_lines": list(account.product_lines.all()),
        "owner": account.owner_id,
        "notes": account.notes,
    }


class PositionFields(forms.Form):
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    title = forms.CharField(label=_("Title"), max_length=120)
    function = forms.ChoiceField(label=_("Function"), choices=Employment.Function.choices)
    seniority = forms.ChoiceField(label=_("Seniority"), choices=Employment.Seniority.choices)
    start_date = forms.DateField(label=_("Start date"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = access.accounts(user).only("pk", "name")


class ContactForm(CrmForm):
    first_name = forms.CharField(label=_("First name"), max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ContactCreateForm(PositionFields, ContactForm):
    """A new person and his current position, in one form."""

    field_order = ["first_name", "last_name", "email", "phone", "account", "title", "function", "seniority"]


class EmploymentForm(PositionFields, CrmForm):
    end_date = forms.DateField(
        label=_("End date"), widget=DateInput(), required=False, help_text=_("Empty for a current position.")
    )


class EmploymentEndForm(CrmForm):
    end_date = forms.DateField(label=_("End date"), widget=DateInput(), initial=timezone.localdate)


class ReportsToForm(CrmForm):
    reports_to = forms.ModelChoiceField(label=_("Reports to"), queryset=Contact.objects.none(), required=False)

    def __init__(self, *args, employment: Employment, **kwargs):
        super().__init__(*args, **kwargs)
        # His colleagues at the account now (visible: the user sees the account through him).
        self.fields["reports_to"].queryset = Contact.objects.filter(
            employments__account_id=employment.account_id, employments__end_date__isnull=True
        ).exclude(pk=employment.contact_id)


class ContactMoveForm(CrmForm):
    """Record a move: the new company (picked, or typed and deduplicated) and the new position."""

    new_account = forms.ModelChoiceField(
        label=_("New company"),
        queryset=Account.objects.none(),
        required=False,
        help_text=_("One of our accounts…"),
    )
    new_account_name = forms.CharField(
        label=_("…or its name"),
        max_length=200,
        required=False,
        help_text=_("A known company under another spelling is found; otherwise the account is created."),
    )
    region = forms.ModelChoiceField(
        label=_("Region of a new account"),
        queryset=Region.objects.all(),
        required=False,
        help_text=_("Empty: the old company's."),
    )
    industry = forms.ModelChoiceField(
        label=_("Industry of a new account"),
        queryset=Industry.objects.all(),
        required=False,
        help_text=_("Empty: the old company's."),
    )
    title = forms.CharField(label=_("New title"), max_length=120)
    function = forms.ChoiceField(label=_("Function"), choices=Employment.Function.choices)
    seniority = forms.ChoiceField(label=_("Seniority"), choices=Employment.Seniority.choices)
    start_date = forms.DateField(
        label=_("Started there on"),
        widget=DateInput(),
        initial=timezone.localdate,
        help_text=_("The current position ends the day before."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_account"].queryset = access.accounts(user).only("pk", "name")


class AccountReassignForm(CrmForm):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=200, help_text=_("Kept in the account's history."))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.available()
        self.fields["owner"].queryset = people if user.is_admin else people.team_of(user)


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


class MergeForm(CrmForm):
    """The record a duplicate merges into: any the user sees (the select offers the likely duplicates)."""

    into = forms.ModelChoiceField(label=_("Merge into"), queryset=Account.objects.none())

    def __init__(self, *args, user: User, record: Account | Contact, candidates: list, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        field.queryset = access.scope(user, type(record)).exclude(pk=record.pk)
        field.help_text = _("It keeps everything of both; this record is deleted and its name kept in the merge log.")
        # The likely duplicates only (a select of every account would list thousands), and the one chosen.
        value = self.data.get("into") if self.is_bound else None
        chosen = field.queryset.filter(pk=value).first() if str(value or "").isdigit() else None
        offered = [chosen] if chosen is not None and chosen not in candidates else []
        field.widget.choices = [("", "---------")] + [(c.pk, _merge_label(c)) for c in [*offered, *candidates]]


class MergeConfirmForm(MergeForm):
    """The second step: the record chosen in the first (hidden) and the confirmation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].widget = forms.HiddenInput()

    confirm = forms.BooleanField(
        label=_("I checked the preview: merge the two records."),
        help_text=_("A merge cannot be undone."),
    )


def _merge_label(record) -> str:
    if isinstance(record, Account):
        return f"{record.name} (#{record.pk})"
    return f"{record} {record.email or record.phone} (#{record.pk})".replace("  ", " ")


class DuplicatePairForm(CrmForm):
    """Two records of the possible-duplicates list, by id (fetched through `access` by the view)."""

    kind = forms.ChoiceField(choices=[("account", _("accounts")), ("contact", _("contacts"))])
    match = forms.CharField(required=False, max_length=16)
    first = forms.IntegerField(min_value=1)
    second = forms.IntegerField(min_value=1)

    def model(self) -> type[Account] | type[Contact]:
        return Account if self.cleaned_data["kind"] == "account" else Contact
