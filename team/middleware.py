# Middleware: each signed-in user's pages in his own language; required second factors set up first.
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _


class UserLanguageMiddleware:
    """Serve a logged-in user in the language he chose, on any device.

    LocaleMiddleware (earlier in the chain) has already picked the cookie or browser language;
    a saved choice on the user wins over both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


# Reachable before the set-up: the set-up itself, logging out, the language switch.
MFA_SETUP_EXEMPT = ("/team/profile/two-factor/", "/logout/", "/language/", "/csp-report/", "/static/")


class MfaRequiredMiddleware:
    """A user whose role must use a second factor (MFA_REQUIRED_ROLES) sets it up before anything else.

    Signing in with the code (or finishing the set-up) marks the session; the marked sessions
    cost no query. A session without the mark is one that logged in with a password alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from team import services
        from team.views import MFA_VERIFIED_KEY

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.session.get(MFA_VERIFIED_KEY)
            and services.mfa_required(user)
            and not request.path_info.startswith(MFA_SETUP_EXEMPT)
        ):
            if request.path_info.startswith("/api/"):
                message = _("Set up two-factor sign-in on your profile first.")
                return JsonResponse({"code": "mfa_setup_required", "detail": message, "fields": {}}, status=403)
            return redirect(reverse("team:mfa-setup"))
        return self.get_response(request)
