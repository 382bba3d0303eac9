# Forms of the departure pages: the departure date, a handover's successor.
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachcrm.forms import CrmForm, DateInput
from team.models import User


class DepartureForm(CrmForm):
    departure_date = forms.DateField(label=_("Departure date"), widget=DateInput(), initial=timezone.localdate)


class HandoverReassignForm(CrmForm):
    to_user = forms.ModelChoiceField(label=_("Successor"), queryset=User.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates
