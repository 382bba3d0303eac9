# Forms of the deal pages: create, edit, move, override, contact roles, the dashboard's filters.
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import Account, Contact, Employment, ProductLine, Region
from coachcrm.forms import CrmForm, DateInput
from coaches.models import Coach, Stance
from pipeline.models import LossReason, Opportunity, OpportunityContact, Stage
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
        self.fields["account"].queryset = access.accounts(user).only("pk", "name")
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


class OpportunityCloseForm(CrmForm):
    """Confirm a win or a loss; a loss says why (the list the admins keep) and may add a note."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), widget=forms.HiddenInput())
    loss_reason = forms.ModelChoiceField(
        label=_("Why was it lost?"), queryset=LossReason.objects.filter(active=True), required=False
    )
    loss_note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args, stage: Stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pk=stage.pk)
        self.fields["stage"].initial = stage.pk
        if stage.is_lost:
            # Required here for the browser's sake; the service refuses a loss without one anyway.
            self.fields["loss_reason"].required = True
        else:
            del self.fields["loss_reason"], self.fields["loss_note"]


class OpportunityReopenForm(CrmForm):
    stage = forms.ModelChoiceField(label=_("Reopen into"), queryset=Stage.objects.open())
    reason = forms.CharField(label=_("Why reopen it?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class OpportunityOverrideForm(CrmForm):
    stage = forms.ModelChoiceField(label=_("Let it into"), queryset=Stage.objects.none())
    reason = forms.CharField(
        label=_("Why may it pass without a coach?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.gated() | Stage.objects.filter(is_won=True)


class DashboardFilterForm(forms.Form):
    """The dashboard's filters; `filters()` gives what `dashboard_summary` takes."""

    start = forms.DateField(label=_("From"), widget=DateInput(), required=False)
    end = forms.DateField(label=_("To"), widget=DateInput(), required=False)
    who = forms.ChoiceField(label=_("Rep or team"), required=False)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all(), required=False)
    product_line = forms.ModelChoiceField(label=_("Product line"), queryset=ProductLine.objects.all(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {}
        if user.is_rep:
            del self.fields["who"]
        else:
            # One query for the people the user may pick: a manager his team, an admin every rep and manager.
            users = User.objects.team_of(user) if user.is_manager else User.objects.filter(role__in=["rep", "manager"])
            self.people = {person.pk: person for person in users.order_by("first_name", "last_name", "username")}
            choices = [("", _("My whole team") if user.is_manager else _("Everyone"))]
            if user.is_admin:
                choices += [
                    (f"team:{p.pk}", _("Team of %(name)s") % {"name": p}) for p in self.people.values() if p.is_manager
                ]
            choices += [(f"user:{p.pk}", str(p)) for p in self.people.values()]
            self.fields["who"].choices = choices
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error(
                "end",
                _("The period ends before it starts: pick an end date on or after %(start)s.")
                % {"start": data["start"]},
            )
        return data

    def filters(self) -> dict:
        data = self.cleaned_data
        kind, _sep, pk = data.get("who", "").partition(":")
        person = self.people.get(int(pk)) if pk else None
        return {
            "start": data.get("start"),
            "end": data.get("end"),
            "owner": person if kind == "user" else None,
            "manager": person if kind == "team" else None,
            "region": data.get("region"),
            "product_line": data.get("product_line"),
        }


def account_people(opportunity: Opportunity):
    """The people who work at the deal's account now (he may see them: he sees the deal's account)."""
    current = Employment.objects.current().filter(account_id=opportunity.account_id)
    return Contact.objects.filter(pk__in=current.values("contact_id")).order_by("last_name", "first_name", "pk")


class OpportunityContactForm(CrmForm):
    contact = forms.ModelChoiceField(label=_("Person"), queryset=Contact.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=OpportunityContact.Role.choices)

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        # Its own ids: the committee form on the same page has a contact and a role too.
        kwargs.setdefault("auto_id", "people_%s")
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = account_people(opportunity)
        for name, css in (("contact", "form-select form-select-sm"), ("role", "form-select form-select-sm")):
            self.fields[name].widget.attrs["class"] = css


class CommitteeMemberForm(CrmForm):
    """Put a person on the buying committee or update him: role, holder, last touch, stance, reporting line."""

    contact = forms.ModelChoiceField(label=_("Person"), queryset=Contact.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=OpportunityContact.Role.choices)
    holder = forms.ModelChoiceField(label=_("Relationship held by"), queryset=User.objects.none(), required=False)
    last_touch_on = forms.DateField(label=_("Last touch"), widget=DateInput(), required=False)
    stance = forms.ChoiceField(
        label=_("Stance toward us"), choices=[("", _("— unchanged —")), *Stance.choices], required=False
    )
    stance_coach = forms.ModelChoiceField(
        label=_("Stance reported by coach"),
        queryset=Coach.objects.none(),
        required=False,
        empty_label=_("— I saw it myself —"),
    )
    stance_note = forms.CharField(label=_("Note, or the plan for an opponent"), max_length=500, required=False)
    reports_to = forms.ModelChoiceField(label=_("Reports to"), queryset=Contact.objects.none(), required=False)

    def __init__(self, *args, opportunity: Opportunity, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        people = account_people(opportunity)
        self.fields["contact"].queryset = people
        self.fields["reports_to"].queryset = people
        self.fields["holder"].queryset = User.objects.active().order_by("username")
        # Only coaches he may see, so the list names no coach he does not hold.
        self.fields["stance_coach"].queryset = (
            access.coaches(user).active().filter(account_id=opportunity.account_id).select_related("contact")
        )
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select form-select-sm" if select else "form-control form-control-sm"
