# Forms of the departure pages: the departure date, a handover's successor.
from django import forms
from django.utils.translation import gettext_lazy as _

from coachcrm.forms import CrmForm, DateInput
from team.models import User


class DepartureForm(CrmForm):
    # No date filled in: the manager types the day on purpose (it used to default to today).
    departure_date = forms.DateField(label=_("Departure date"), widget=DateInput())
    # Set by the confirmation page: the first submit shows what will happen, the second does it.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput())


class HandoverReassignForm(CrmForm):
    to_user = forms.ModelChoiceField(label=_("Successor"), queryset=User.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates
