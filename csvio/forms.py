# The upload form of an import.
from django import forms
from django.utils.translation import gettext_lazy as _

from coachcrm.forms import CrmForm


class ImportUploadForm(CrmForm):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Comma or semicolon separated, UTF-8 or Excel's encoding; the first line names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
