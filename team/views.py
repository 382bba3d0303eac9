# Pages of sign-in, language, notifications and the health check.
import base64
import logging
import time

import segno
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login

import access
from coachcrm import health as kernel_health
from coachcrm.forms import add_service_error
from coachcrm.pagination import paginate
from team import selectors, services
from team.filters import SecurityEventFilter
from team.forms import CrmPasswordResetForm
from team.models import User

logger = logging.getLogger(__name__)

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


@login_not_required
@require_GET
def health_ready(request):
    """For load balancers: database, broker and cache each "ok", else 503 naming the one that is down."""
    checks = kernel_health.readiness()
    down = sorted(name for name, answer in checks.items() if answer.startswith("down"))
    return JsonResponse({"ready": not down, "down": down, "checks": checks}, status=503 if down else 200)


def _over_limit(key: str) -> bool:
    """Count one more request under the key for an hour; whether it is past the limit.

    Fails open like the API's throttling: with the cache down the request goes through
    uncounted (a warning in the log), never a 500. The reset e-mail itself reveals nothing and
    its link only reaches the address's owner.
    """
    try:
        cache.add(key, 0, timeout=60 * 60)
        try:
            return cache.incr(key) > PASSWORD_RESETS_PER_HOUR
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=60 * 60)
            return False
    except Exception as error:
        logger.warning("Password-reset rate limit skipped, the cache is unreachable: %s", error)
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
    """The user's own page: password, second factor and his recent sign-ins."""
    context = {
        "devices": selectors.user_mfa_devices(user=request.user),
        "sign_ins": selectors.recent_sign_ins(user=request.user),
    }
    return render(request, "team/profile.html", context)


@require_GET
def security_event_list(request):
    """The login audit (admins): sign-ins, failures, lock-outs, password, second-factor and token changes."""
    if not request.user.is_admin:
        raise Http404
    filterset = SecurityEventFilter(
        request.GET, queryset=selectors.security_event_list(queryset=access.security_events(request.user))
    )
    page = paginate(request, filterset.qs)
    context = {"filter": filterset, "page": page, "keep_days": settings.SECURITY_EVENTS_KEEP_DAYS}
    return render(request, "team/securityevent_list.html", context)


# --- Sign-in with a second factor ------------------------------------------------------------

MFA_PENDING_KEY = "_mfa_pending"
MFA_VERIFIED_KEY = "_mfa_verified"
# The password step is good for this long: the code must follow it.
MFA_PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Django's login; a user with a second factor is asked for his code before he is logged in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not services.mfa_enabled(user):
            return super().form_valid(form)
        self.request.session[MFA_PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),
        }
        return redirect("login-code")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        help_text=gettext_lazy("The 6 digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


@login_not_required
def login_code(request):
    """The second step of a login: the code from the app (or a recovery code); failures count for the lock-out."""
    pending = request.session.get(MFA_PENDING_KEY)
    user = User.objects.filter(pk=pending["user"]).first() if pending else None
    if user is None or not user.can_log_in or time.time() - pending["at"] > MFA_PENDING_SECONDS:
        request.session.pop(MFA_PENDING_KEY, None)
        return redirect("login")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return render(request, "registration/locked_out.html", status=429)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.mfa_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            del request.session[MFA_PENDING_KEY]
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            request.session[MFA_VERIFIED_KEY] = True
            return redirect(pending["next"])
        # Told to django-axes like a wrong password: enough wrong codes lock the user name out.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request, reason="code")
        if AxesProxyHandler.is_locked(request, credentials):
            return render(request, "registration/locked_out.html", status=429)
        form.add_error("code", _("That code does not match."))
    return render(request, "registration/login_code.html", {"form": form})


class MfaSetupForm(CodeForm):
    pass


def mfa_setup(request):
    """Set up two-factor sign-in: scan the key, confirm with a code, note the recovery codes (shown once)."""
    form = MfaSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.mfa_setup_confirm(user=request.user, code=form.cleaned_data["code"], request=request)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            request.session[MFA_VERIFIED_KEY] = True
            return render(request, "team/mfa_codes.html", {"codes": codes})
    device = selectors.mfa_pending_device(user=request.user) or services.mfa_setup_start(user=request.user)
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr": qr.svg_data_uri(scale=5, dark="#000", light="#fff"),
        "secret": base64.b32encode(device.bin_key).decode(),
        "required": services.mfa_required(request.user) and not services.mfa_enabled(request.user),
    }
    return render(request, "team/mfa_setup.html", context)
