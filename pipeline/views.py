from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import account_get_for_user, history_entries
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from coaches.selectors import opportunity_playbook
from pipeline import selectors, services
from pipeline.filters import OpportunityFilter
from pipeline.forms import (
    OpportunityContactForm,
    OpportunityForm,
    OpportunityMoveForm,
    OpportunityOverrideForm,
    opportunity_form_initial,
)


def _board_context(user, *, errors=None) -> dict:
    return {
        "columns": selectors.board_columns(user=user),
        "closing": selectors.board_closing_stages(),
        "errors": errors or {},
    }


def opportunity_board(request):
    return render(request, "pipeline/opportunity_board.html", _board_context(request.user))


def opportunity_list(request):
    filterset = OpportunityFilter(
        request.GET, queryset=selectors.opportunity_list(user=request.user), user=request.user
    )
    page = paginate(request, filterset.qs)
    return render(request, "pipeline/opportunity_list.html", {"filter": filterset, "page": page})


def opportunity_held_back(request):
    page = paginate(request, selectors.opportunity_held_back_list(user=request.user))
    return render(request, "pipeline/opportunity_held_back.html", {"page": page})


def opportunity_detail(request, pk):
    opportunity = selectors.opportunity_get_for_user(user=request.user, pk=pk)
    context = {
        "opportunity": opportunity,
        "changes": selectors.opportunity_stage_changes(opportunity=opportunity),
        "move_form": OpportunityMoveForm(),
        "can_override": not request.user.is_rep,
        "history": history_entries(records=opportunity.history.all()),
        "contact_roles": selectors.opportunity_contact_roles(opportunity=opportunity, user=request.user),
        "contact_form": OpportunityContactForm(opportunity=opportunity),
        "playbook": opportunity_playbook(opportunity=opportunity, user=request.user),
    }
    return render(request, "pipeline/opportunity_detail.html", context)


@require_http_methods(["GET", "POST"])
def opportunity_create(request):
    initial = {}
    if account_pk := request.GET.get("account"):
        initial["account"] = account_get_for_user(user=request.user, pk=account_pk).pk
    form = OpportunityForm(request.POST or None, user=request.user, initial=initial)
    gate_error = None
    if form.is_valid():
        try:
            opportunity = services.opportunity_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
            gate_error = error if isinstance(error, services.GateError) else None
        else:
            messages.success(request, _("Opportunity %(name)s created.") % {"name": opportunity})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_form.html", {"form": form, "gate_error": gate_error})


@require_http_methods(["GET", "POST"])
def opportunity_update(request, pk):
    opportunity = selectors.opportunity_get_for_user(user=request.user, pk=pk)
    form = OpportunityForm(
        request.POST or None, user=request.user, opportunity=opportunity, initial=opportunity_form_initial(opportunity)
    )
    if form.is_valid():
        try:
            services.opportunity_update(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Opportunity %(name)s saved.") % {"name": opportunity})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_form.html", {"form": form, "opportunity": opportunity})


@require_POST
def opportunity_move(request, pk):
    """Move from the board (htmx: the board comes back, with the refusal on the card) or the detail page."""
    opportunity = selectors.opportunity_get_for_user(user=request.user, pk=pk)
    form = OpportunityMoveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose a stage to move to."))
    error = None
    try:
        services.opportunity_move(opportunity=opportunity, by=request.user, **form.cleaned_data)
    except ValidationError as refused:
        error = refused
    if request.htmx:
        errors = {opportunity.pk: error} if error else {}
        return render(request, "pipeline/_board.html", _board_context(request.user, errors=errors))
    if error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(name)s moved to %(stage)s.") % {"name": opportunity, "stage": form.cleaned_data["stage"]}
        )
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect(opportunity)


@require_http_methods(["GET", "POST"])
def opportunity_override(request, pk):
    opportunity = selectors.opportunity_get_for_user(user=request.user, pk=pk)
    form = OpportunityOverrideForm(request.POST or None)
    if form.is_valid():
        try:
            services.opportunity_override(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s let past the gate.") % {"name": opportunity})
            return redirect(opportunity)
    return render(request, "pipeline/opportunity_override.html", {"form": form, "opportunity": opportunity})


@require_POST
def opportunity_contact_add(request, pk):
    opportunity = selectors.opportunity_get_for_user(user=request.user, pk=pk)
    form = OpportunityContactForm(request.POST, opportunity=opportunity)
    if form.is_valid():
        try:
            services.opportunity_contact_add(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(name)s added to the deal.") % {"name": form.cleaned_data["contact"]})
    else:
        messages.error(request, _("Choose a person who works at the account and a role."))
    return redirect(opportunity)


@require_POST
def opportunity_contact_remove(request, pk):
    contact_role = selectors.opportunity_contact_get_for_user(user=request.user, pk=pk)
    services.opportunity_contact_remove(contact_role=contact_role, by=request.user)
    messages.success(request, _("%(name)s removed from the deal.") % {"name": contact_role.contact})
    return redirect(contact_role.opportunity)
