# The upload form of an import and its mapping step.
from django import forms
from django.utils.translation import gettext_lazy as _

from coachcrm.forms import CrmForm
from csvio import importers
from csvio.models import ImportMapping


class ImportUploadForm(CrmForm):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Comma, semicolon or tab separated; UTF-8, UTF-16 or Excel's encoding; the first line names the columns. "
            "Exports of HubSpot and Salesforce are recognised by their columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )
    mapping = forms.ModelChoiceField(
        label=_("Saved mapping"),
        queryset=ImportMapping.objects.none(),
        required=False,
        empty_label=_("Propose one from the file's columns"),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].queryset = ImportMapping.objects.filter(kind=kind)
        if not self.fields["mapping"].queryset.exists():
            del self.fields["mapping"]


class ImportMappingForm(forms.Form):
    """The mapping step: each file column's target, a value for empty cells, each list value's match.

    Fields are numbered (`column_0`, `value_region_3`) because headers and cells can hold any text.
    """

    save_as = forms.CharField(
        label=_("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=_("A name, to choose it for the next file of the same export."),
    )

    def __init__(self, *args, batch, importer, samples: dict[str, str] | None = None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        samples = samples or {}
        report = batch.report
        targets = [("", _("— ignore —")), *((c, c) for c in importer.columns)]
        self.headers = list(report.get("mapping", {}))
        self.column_fields, self.default_fields, self.value_groups = [], [], []
        for index, header in enumerate(self.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header, choices=targets, required=False, initial=report["mapping"][header]
            )
            self.fields[name].sample = samples.get(header, "")
            self.column_fields.append(name)
        defaults = report.get("defaults", {})
        missing = set(report.get("missing_columns", ()))
        # The columns that need a value first.
        for column in sorted(importer.columns, key=lambda c: c not in missing):
            if column in importer.required or column in defaults:
                name = f"default_{column}"
                if column in report.get("choices", {}):
                    options = [("", _("— none —")), *((c, c) for c in report["choices"][column])]
                    self.fields[name] = forms.ChoiceField(
                        label=column, required=False, choices=options, initial=defaults.get(column, "")
                    )
                else:
                    self.fields[name] = forms.CharField(
                        label=column, required=False, max_length=200, initial=defaults.get(column, "")
                    )
                self.fields[name].missing = column in missing
                self.default_fields.append(name)
        self.value_cells = {}
        chosen = batch.values
        # An admin may add a value the file has and the list lacks; a rep picks a match or asks him.
        creates = user is not None and user.is_admin
        for column, found in report.get("values", {}).items():
            choices = [("", _("— no match —")), *((c, c) for c in found["choices"])]
            names = []
            for index, cell in enumerate(found["found"]):
                name = f"value_{column}_{index}"
                new = [(importers.NEW_VALUE, _("+ add “%(value)s” to the list") % {"value": cell["value"]})]
                self.fields[name] = forms.ChoiceField(
                    label=cell["value"],
                    choices=choices + (new if creates and column in importer.creatable_columns else []),
                    required=False,
                    initial=chosen.get(column, {}).get(cell["value"]) or cell["match"],
                )
                self.fields[name].rows = cell["rows"]
                self.fields[name].unmatched = not cell["match"]
                self.value_cells[name] = (column, cell["value"])
                names.append(name)
            self.value_groups.append((column, names))
        for name, form_field in self.fields.items():
            css = (
                "form-select form-select-sm"
                if isinstance(form_field, forms.ChoiceField)
                else "form-control form-control-sm"
            )
            form_field.widget.attrs.setdefault("class", css)
            if name != "save_as":
                # The header or cell as text, for screen readers: the label is the file's own text.
                form_field.widget.attrs.setdefault("aria-label", str(form_field.label))

    def mapping(self) -> dict:
        """The service's arguments from the cleaned form."""
        data = self.cleaned_data
        return {
            "columns": {header: data.get(f"column_{i}", "") for i, header in enumerate(self.headers)},
            "defaults": {name.removeprefix("default_"): data.get(name, "") for name in self.default_fields},
            "values": _group((column, value, data.get(name, "")) for name, (column, value) in self.value_cells.items()),
            "save_as": data.get("save_as", ""),
        }

    @property
    def bound_columns(self):
        return [self[name] for name in self.column_fields]

    @property
    def bound_defaults(self):
        return [self[name] for name in self.default_fields]

    @property
    def bound_values(self):
        return [(column, [self[name] for name in names]) for column, names in self.value_groups]


def _group(triples) -> dict[str, dict[str, str]]:
    grouped: dict[str, dict[str, str]] = {}
    for column, value, target in triples:
        if target:
            grouped.setdefault(column, {})[value] = target
    return grouped
