from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from pipeline import selectors as pipeline_selectors
from team import departures, selectors, services
from team.forms import DepartureForm, HandoverReassignForm
from team.models import User


def home(request):
    page = paginate(request, pipeline_selectors.work_list(user=request.user))
    return render(request, "team/home.html", {**selectors.home_summary(user=request.user), "page": page})


@login_not_required
def locked_out(request):
    return render(request, "registration/locked_out.html", status=429)


def notification_list(request):
    page = paginate(request, selectors.notification_list(user=request.user))
    return render(request, "team/notification_list.html", {"page": page})


@require_POST
def notifications_mark_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("team:notification-list")


@login_not_required
@require_POST
def language_set(request):
    """Switch the interface language: remembered on the user, and in a cookie before login."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    if request.user.is_authenticated:
        try:
            services.user_set_language(user=request.user, language=language)
        except ValidationError:
            return response
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


@login_not_required
def health(request):
    """For load balancers and the benchmark: the app answers and its database too (one query)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def team_list(request):
    if not (request.user.is_manager or request.user.is_admin):
        raise Http404
    page = paginate(request, selectors.team_list(user=request.user))
    return render(request, "team/team_list.html", {"page": page, "form": DepartureForm()})


def _departure_context(request, rep, form=None) -> dict:
    candidates = selectors.successor_candidates(user=request.user).exclude(pk=rep.pk)
    return {
        "rep": rep,
        "form": form or DepartureForm(initial={"departure_date": rep.departure_date} if rep.departure_date else None),
        "page": paginate(request, selectors.departure_handovers(rep=rep)),
        "progress": selectors.departure_progress(rep=rep),
        "candidates": list(candidates),
        "retention": selectors.retention_summary(users_qs=User.objects.filter(pk=rep.pk)),
    }


@require_GET
def departure_detail(request, pk):
    rep = selectors.rep_get_for_user(user=request.user, pk=pk)
    return render(request, "team/departure_detail.html", _departure_context(request, rep))


@require_POST
def departure_start(request, pk):
    rep = selectors.rep_get_for_user(user=request.user, pk=pk)
    form = DepartureForm(request.POST)
    if form.is_valid():
        try:
            rep = departures.user_mark_leaving(user=rep, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if rep.departure_jobs_delayed:
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
            return redirect("team:departure-detail", pk=rep.pk)
    return render(request, "team/departure_detail.html", _departure_context(request, rep, form))


@require_POST
def handover_reassign(request, pk):
    handover = selectors.handover_get_for_user(user=request.user, pk=pk)
    form = HandoverReassignForm(request.POST, candidates=selectors.successor_candidates(user=request.user))
    if form.is_valid():
        try:
            departures.handover_reassign(handover=handover, by=request.user, **form.cleaned_data)
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
    return redirect("team:departure-detail", pk=handover.from_user_id)


@require_GET
def handover_list(request):
    page = paginate(request, selectors.handover_list(user=request.user))
    return render(request, "team/handover_list.html", {"page": page})
