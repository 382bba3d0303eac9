"""The departure pages: the manager's team, a rep's departure and its handovers, "my handovers"."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

import access
from coachcrm import jobs
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from coaches.models import Handover
from coaches.selectors import retention_summary
from departures import selectors, services
from departures.forms import DepartureForm, HandoverReassignForm
from team.models import User


@require_GET
def team_list(request):
    if not (request.user.is_manager or request.user.is_admin):
        raise Http404
    page = paginate(request, selectors.team_list(user=request.user))
    return render(request, "departures/team_list.html", {"page": page, "form": DepartureForm()})


def _departure_context(request, rep, form=None) -> dict:
    candidates = selectors.successor_candidates(user=request.user).exclude(pk=rep.pk)
    page = paginate(request, selectors.departure_handovers(rep=rep))
    page.object_list = selectors.handover_rows(handovers=page.object_list)
    return {
        "rep": rep,
        "form": form or DepartureForm(initial={"departure_date": rep.departure_date} if rep.departure_date else None),
        "page": page,
        "progress": selectors.departure_progress(rep=rep),
        "candidates": list(candidates),
        "retention": retention_summary(users_qs=User.objects.filter(pk=rep.pk)),
    }


@require_GET
def departure_detail(request, pk):
    rep = access.rep(request.user, pk)
    return render(request, "departures/departure_detail.html", _departure_context(request, rep))


@require_POST
def departure_start(request, pk):
    rep = access.rep(request.user, pk)
    form = DepartureForm(request.POST)
    if form.is_valid() and not form.cleaned_data["confirm"]:
        # Nothing is written yet: refuse what the service would refuse, else show what the
        # departure will do and ask to confirm.
        try:
            services.departure_check(user=rep, departure_date=form.cleaned_data["departure_date"], by=request.user)
        except ValidationError as error:
            add_service_error(form, error)
            return render(request, "departures/departure_detail.html", _departure_context(request, rep, form))
        context = {
            "rep": rep,
            "form": form,
            "departure_date": form.cleaned_data["departure_date"],
            "preview": selectors.departure_preview(rep=rep),
        }
        return render(request, "departures/departure_confirm.html", context)
    if form.is_valid():
        form.cleaned_data.pop("confirm")
        try:
            rep = services.user_mark_leaving(user=rep, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if jobs.delayed():
                request.jobs_delayed_reported = True  # this message says it, not the generic one
                messages.warning(
                    request,
                    _(
                        "Departure saved. The background jobs are delayed: the at-risk coaches will be "
                        "flagged as soon as the job queue is back (at the latest by the daily sweep)."
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Departure saved: %(name)s leaves on %(date)s. His at-risk coaches are being flagged.")
                    % {"name": rep, "date": formats.date_format(rep.departure_date, "SHORT_DATE_FORMAT")},
                )
            return redirect("departures:departure-detail", pk=rep.pk)
    return render(request, "departures/departure_detail.html", _departure_context(request, rep, form))


@require_POST
def departure_cancel(request, pk):
    """Call off a departure before its date (a confirmation on the departure page asks first)."""
    rep = access.rep(request.user, pk)
    try:
        result = services.user_departure_cancel(user=rep, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "Departure of %(name)s cancelled: %(handovers)s handover(s) cancelled, "
                "%(coaches)s coach(es) no longer at risk."
            )
            % {"name": rep, **result},
        )
    return redirect("departures:departure-detail", pk=rep.pk)


@require_POST
def handover_reassign(request, pk):
    handover = access.get(request.user, Handover.objects.select_related("from_user", "coach"), pk)
    form = HandoverReassignForm(request.POST, candidates=selectors.successor_candidates(user=request.user))
    if form.is_valid():
        try:
            services.handover_reassign(handover=handover, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(coach)s is now handed over to %(name)s.")
                % {"coach": handover.coach, "name": form.cleaned_data["to_user"]},
            )
    else:
        messages.error(request, _("Choose an active colleague who is staying."))
    return redirect("departures:departure-detail", pk=handover.from_user_id)


@require_GET
def handover_list(request):
    page = paginate(request, selectors.handover_list(user=request.user))
    return render(request, "departures/handover_list.html", {"page": page})
