"""Form plumbing shared by every app: run a service and turn its refusal into form errors."""

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.functional import cached_property
from django.utils.translation import gettext_noop

# Every form (ours, the filter forms, the admin's) puts Django's `_(":")` after a label it
# renders with `label_tag`. Django's own Chinese catalog keeps the ASCII colon ("阶段:"); ours,
# which comes first, gives the full-width one. Marked here so that makemessages keeps the entry.
# Translators: the colon after a form label ("Stage:"); Chinese uses the full-width colon.
gettext_noop(":")


class CrmFormHelper(FormHelper):
    form_tag = False


class CrmForm(forms.Form):
    @cached_property
    def helper(self) -> CrmFormHelper:
        # Built on first render, so a subclass's __init__ may still drop fields (crispy lays out the rest).
        return CrmFormHelper(self)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def narrow_on_change(form: forms.Form, source: str, targets: list[str], url: str) -> None:
    """Refill the `targets` selects from `url` when `source` changes (htmx), so they list only what fits.

    The page at `url` renders the form narrowed by the source's value (`?<source>=<pk>`); htmx
    swaps in just the target selects. Without JavaScript the form offers a button that does the
    same by reloading the page, and the server validates the choice either way.
    """
    first, *others = targets
    form.fields[source].widget.attrs.update(
        {
            "hx-get": url,
            "hx-trigger": "change",
            "hx-target": f"#id_{first}",
            "hx-select": f"#id_{first}",
            "hx-swap": "outerHTML",
            **({"hx-select-oob": ",".join(f"#id_{name}" for name in others)} if others else {}),
        }
    )
    form.narrowing = {"source": source, "url": url}


def bound_choice(form: forms.Form, name: str, queryset):
    """The row chosen in a bound form's `name` field, if it is in `queryset` (else None): to narrow other fields by."""
    value = form.data.get(form.add_prefix(name), "") if form.is_bound else ""
    return queryset.filter(pk=value).first() if str(value).isdigit() else None


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors on their fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class _DryRun(Exception):
    pass


def service_dry_run(form: forms.Form, call) -> bool:
    """Run a service in a savepoint that is always rolled back, putting its refusal on the form.

    For the Django admin, whose `save_model` cannot refuse: the form's `clean()` tries the
    write here first, so a refusal is a form error (never a 500), and `save_model` then runs
    it for real. Work the service leaves for after the commit is dropped with the savepoint.
    """
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        return True
    except ValidationError as error:
        add_service_error(form, error)
        return False


class AdminFormUser:
    """A ModelAdmin mixin giving its form `user` (the signed-in admin), for a `clean()` that runs `service_dry_run`."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form


__all__ = [
    "NON_FIELD_ERRORS",
    "AdminFormUser",
    "CrmForm",
    "CrmFormHelper",
    "DateInput",
    "add_service_error",
    "bound_choice",
    "narrow_on_change",
    "service_dry_run",
]
