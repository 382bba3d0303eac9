# Pages of sign-in, language, notifications and the health check.
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from coachcrm import health as kernel_health
from coachcrm.pagination import paginate
from team import selectors, services


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
