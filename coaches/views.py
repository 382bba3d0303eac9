# Pages of coaches: the lists, a coach, recording, verifying, holders, interactions, style reports.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import access
from accounts.models import Account, Contact
from accounts.selectors import history_entries
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from coaches import selectors, services
from coaches.filters import CoachFilter
from coaches.forms import (
    CadenceForm,
    CoachForm,
    CoachStatusForm,
    CoachVerifyForm,
    HolderForm,
    InteractionForm,
    StyleReportForm,
    coach_criteria_initial,
)
from coaches.importers import YES_NO_COLUMNS, CoachImporter
from coaches.models import Coach, Holder
from csvio.export import csv_response


def _coach(request, pk) -> Coach:
    return access.get(request.user, Coach.objects.select_related("account", "contact"), pk)


def coach_list(request):
    filterset = CoachFilter(request.GET, queryset=selectors.coach_list(user=request.user))
    page = paginate(request, filterset.qs)
    page.object_list = selectors.coach_list_rows(coaches=page.object_list)
    return render(request, "coaches/coach_list.html", {"page": page, "filter": filterset})


@require_GET
def coach_export(request):
    """The coach list with its filters as CSV: the coach import's columns, then the state for people to read."""
    filterset = CoachFilter(request.GET, queryset=selectors.coach_list(user=request.user))
    return csv_response(
        filename="coaches.csv",
        header=list(CoachImporter.columns),
        rows=(
            [
                c.contact.email,
                c.account.name,
                c.strength,
                *("yes" if getattr(c, column) else "no" for column in YES_NO_COLUMNS),
                c.established_on,
                # Primary first: the import makes the first holder the primary one.
                ";".join(h.user.username for h in sorted(c.holders.all(), key=lambda h: not h.is_primary)),
                c.contact,
                c.status,
                c.at_risk,
            ]
            for c in filterset.qs
        ),
    )


def coach_detail(request, pk):
    coach = _coach(request, pk)
    context = {
        "coach": coach,
        "holders": list(coach.holders.select_related("user")),
        "interactions": selectors.coach_interactions(coach=coach),
        "favours": selectors.coach_favour_balance(coach=coach),
        "reported_styles": selectors.coach_reported_styles(coach=coach),
        "interaction_form": InteractionForm(initial={"kind": selectors.last_kind(coach=coach, user=request.user)}),
        "holder_form": HolderForm(coach=coach),
        "status_form": CoachStatusForm(initial={"status": "lapsed" if coach.is_active else "active"}),
        "cadence_form": CadenceForm(initial={"cadence_days": coach.cadence_days}),
        "history": history_entries(records=coach.history.all()),
    }
    return render(request, "coaches/coach_detail.html", context)


@require_http_methods(["GET", "POST"])
def coach_create(request):
    account = contact = None
    if account_pk := request.GET.get("account"):
        account = access.get(request.user, Account, account_pk)
    if contact_pk := request.GET.get("contact"):
        contact = access.get(request.user, Contact, contact_pk)
    form = CoachForm(request.POST or None, user=request.user, account=account, contact=contact)
    if form.is_valid():
        try:
            coach = services.coach_record(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s recorded as our coach at %(account)s.") % {"name": coach.contact, "account": coach.account},
            )
            return redirect(coach)
    return render(request, "coaches/coach_form.html", {"form": form, "account": account, "contact": contact})


@require_http_methods(["GET", "POST"])
def coach_verify(request, pk):
    coach = _coach(request, pk)
    form = CoachVerifyForm(request.POST or None, initial=coach_criteria_initial(coach))
    if form.is_valid():
        try:
            services.coach_verify(coach=coach, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Coach verified today."))
            return redirect(coach)
    return render(request, "coaches/coach_verify.html", {"form": form, "coach": coach})


def _run(request, action, success: str) -> None:
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)


@require_POST
def coach_set_status(request, pk):
    coach = _coach(request, pk)
    form = CoachStatusForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: services.coach_set_status(coach=coach, by=request.user, **form.cleaned_data),
            _("Status changed."),
        )
    else:
        messages.error(request, _("Choose a valid status."))
    return redirect(coach)


@require_POST
def coach_set_cadence(request, pk):
    coach = _coach(request, pk)
    form = CadenceForm(request.POST)
    if form.is_valid():
        _run(
            request,
            lambda: services.coach_set_cadence(coach=coach, by=request.user, **form.cleaned_data),
            _("Touch cadence saved."),
        )
    else:
        messages.error(request, _("Choose between 1 and 365 days, or leave it empty for the default."))
    return redirect(coach)


@require_POST
def interaction_log(request, pk):
    coach = _coach(request, pk)
    form = InteractionForm(request.POST)
    if form.is_valid():
        _run(request, lambda: services.interaction_log(coach=coach, by=request.user, **form.cleaned_data), _("Logged."))
    else:
        messages.error(request, _("Choose a kind and a valid date."))
    return redirect(coach)


@require_POST
def holder_add(request, pk):
    coach = _coach(request, pk)
    form = HolderForm(request.POST, coach=coach)
    if form.is_valid():
        _run(
            request, lambda: services.holder_add(coach=coach, by=request.user, **form.cleaned_data), _("Holder added.")
        )
    else:
        messages.error(request, _("Choose an active user who does not hold this coach yet."))
    return redirect(coach)


@require_POST
def holder_remove(request, pk):
    holder = access.get(request.user, Holder.objects.select_related("coach", "user"), pk)
    _run(request, lambda: services.holder_remove(holder=holder, by=request.user), _("Holder removed."))
    return redirect(holder.coach)


@require_POST
def holder_set_primary(request, pk):
    holder = access.get(request.user, Holder.objects.select_related("coach", "user"), pk)
    _run(request, lambda: services.holder_set_primary(holder=holder, by=request.user), _("Primary holder changed."))
    return redirect(holder.coach)


@require_http_methods(["GET", "POST"])
def style_report_create(request, pk):
    contact = access.get(request.user, Contact, pk)
    form = StyleReportForm(request.POST or None, user=request.user, contact=contact)
    if form.is_valid():
        try:
            services.style_report_record(by=request.user, contact=contact, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Buying style recorded."))
            return redirect(contact)
    return render(request, "coaches/stylereport_form.html", {"form": form, "contact": contact})


@require_GET
def coach_move_list(request):
    page = paginate(request, selectors.coach_move_list(user=request.user))
    context = {
        "page": page,
        "summary": selectors.coach_move_summary(user=request.user),
        "window_days": selectors.MOVE_WINDOW_DAYS,
    }
    return render(request, "coaches/coachmove_list.html", context)
