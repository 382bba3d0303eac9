# Forms of the rep's day: logging a touch with its next step, a task.
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import access
from accounts.models import Contact
from coachcrm.forms import CrmForm, DateInput
from coaches.models import Coach, Interaction
from pipeline.models import Opportunity
from team.models import User


class TouchForm(CrmForm):
    """The short log form: kind (preselected), date (today), note, and an optional next step."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Interaction.Kind.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3, "autofocus": True})
    )
    next_step = forms.CharField(
        label=_("Next step"),
        max_length=200,
        required=False,
        help_text=_("Optional: what you do next; it becomes a task of yours."),
    )
    next_step_on = forms.DateField(
        label=_("Next step due"),
        widget=DateInput(),
        required=False,
        help_text=_("Empty: when the next touch is due."),
    )


class TimeInput(forms.TimeInput):
    input_type = "time"


class TaskForm(CrmForm):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    due_on = forms.DateField(label=_("Due"), widget=DateInput(), initial=timezone.localdate)
    due_time = forms.TimeField(label=_("Time"), widget=TimeInput(), required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Whom the user may give a task: himself, his reps as a manager, anyone active as an admin.
        team = access.team(user).filter(is_active=True).order_by("username")
        if team.count() <= 1:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = team
            self.fields["owner"].empty_label = _("Me")


class NoteForm(CrmForm):
    text = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )


class StyleRequestForm(CrmForm):
    """Which coach to ask about whom (the committee's hidden fields); each record through access."""

    coach = forms.ModelChoiceField(label=_("Coach"), queryset=Coach.objects.none())
    contact = forms.ModelChoiceField(label=_("Person"), queryset=Contact.objects.none())
    opportunity = forms.ModelChoiceField(label=_("Opportunity"), queryset=Opportunity.objects.none(), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].queryset = access.coaches(user).select_related("contact", "account")
        self.fields["contact"].queryset = access.contacts(user)
        self.fields["opportunity"].queryset = access.opportunities(user)
