from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coachcrm import health as kernel_health
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from pipeline import selectors as pipeline_selectors
from team import departures, selectors, services
from team.forms import DepartureForm, HandoverReassignForm, TerritoryForm, TerritoryRuleForm, territory_initial
from team.models import Territory, User


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


@login_not_required
@require_GET
def health_ready(request):
    """For load balancers: database, broker and cache each "ok", else 503 naming the one that is down."""
    checks = kernel_health.readiness()
    down = sorted(name for name, answer in checks.items() if answer.startswith("down"))
    return JsonResponse({"ready": not down, "down": down, "checks": checks}, status=503 if down else 200)


# --- territories (admins) and conflicts (managers, admins) ----------------------------------


def _require_admin(request) -> None:
    # Territory pages are out of scope for everyone else: 404, like any other.
    if not request.user.is_admin:
        raise Http404


@require_GET
def territory_list(request):
    _require_admin(request)
    return render(request, "team/territory_list.html", {"territories": selectors.territory_list()})


@require_http_methods(["GET", "POST"])
def territory_create(request):
    _require_admin(request)
    form = TerritoryForm(request.POST or None)
    if form.is_valid():
        try:
            territory = services.territory_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Territory %(name)s added.") % {"name": territory})
            return redirect("team:territory-list")
    return render(request, "team/territory_form.html", {"form": form, "preview": _preview_count(form)})


@require_http_methods(["GET", "POST"])
def territory_update(request, pk):
    _require_admin(request)
    territory = get_object_or_404(Territory, pk=pk)
    form = TerritoryForm(request.POST or None, territory=territory, initial=territory_initial(territory))
    if form.is_valid():
        try:
            services.territory_update(territory=territory, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Territory %(name)s saved.") % {"name": territory})
            return redirect("team:territory-list")
    context = {
        "form": form,
        "territory": territory,
        "preview": _preview_count(form),
        "history": selectors.territory_history(territory=territory),
    }
    return render(request, "team/territory_form.html", context)


def _preview_count(form) -> int | None:
    """How many accounts the form's rule covers: the submitted rule, else the saved one."""
    data = form.data if form.is_bound else {f: form.initial.get(f) or "" for f in TerritoryRuleForm.base_fields}
    return _rule_coverage(data)


def _rule_coverage(data) -> int | None:
    rule = TerritoryRuleForm(data)
    return selectors.territory_coverage_count(**rule.cleaned_data) if rule.is_valid() else None


@require_GET
def territory_preview(request):
    """htmx: "this rule covers N accounts" for the rule being edited (one COUNT query)."""
    _require_admin(request)
    return render(request, "team/_territory_preview.html", {"preview": _rule_coverage(request.GET)})


@require_POST
def territory_deactivate(request, pk):
    _require_admin(request)
    territory = get_object_or_404(Territory, pk=pk)
    try:
        services.territory_deactivate(territory=territory, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s no longer routes accounts.") % {"name": territory})
    return redirect("team:territory-list")


@require_POST
def territory_move(request, pk):
    _require_admin(request)
    territory = get_object_or_404(Territory, pk=pk)
    try:
        services.territory_move(territory=territory, by=request.user, up=request.POST.get("direction") != "down")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("team:territory-list")


@require_GET
def conflict_list(request):
    if request.user.is_rep:
        raise Http404
    page = paginate(request, selectors.territory_conflicts(user=request.user))
    return render(request, "team/conflict_list.html", {"page": page})


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
