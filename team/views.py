# Pages of sign-in, language, notifications and the health check.
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachcrm.pagination import paginate
from team import selectors, services
from team.forms import CrmPasswordResetForm

# Reset requests per address (and per e-mail) and hour: enough for a typo, too few to mail-bomb.
PASSWORD_RESETS_PER_HOUR = 5


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


def _over_limit(key: str) -> bool:
    """Count one more request under the key for an hour; whether it is past the limit."""
    cache.add(key, 0, timeout=60 * 60)
    try:
        return cache.incr(key) > PASSWORD_RESETS_PER_HOUR
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60 * 60)
        return False


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, rate-limited per address and e-mail; never says whether the address is known."""

    form_class = CrmPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        address = self.request.META.get("REMOTE_ADDR", "")
        email = form.cleaned_data["email"].strip().lower()
        if _over_limit(f"pwreset:ip:{address}") or _over_limit(f"pwreset:email:{email}"):
            return render(self.request, "registration/password_reset_limited.html", status=429)
        return super().form_valid(form)


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset link (one use, expiring after PASSWORD_RESET_TIMEOUT); every API token is revoked too."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user, request=self.request, how="reset")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's password on the profile: other sessions end (Django) and API tokens are revoked."""

    success_url = reverse_lazy("team:profile")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user, request=self.request, how="change")
        messages.success(self.request, _("Your password was changed. You were logged out everywhere else."))
        return response


def profile(request):
    """The user's own page: password and second factor."""
    return render(request, "team/profile.html", {"devices": selectors.user_mfa_devices(user=request.user)})
