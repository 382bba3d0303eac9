# Response hardening for every page and API answer: Permissions-Policy, no caching of private
# pages, the idle session timeout, and the endpoint browsers send CSP violation reports to.
import json
import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("coachcrm.security")

# Features no page of the CRM uses: a script injected into a page cannot switch them on.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"
)
# The session's last activity, in seconds since the epoch (written at most once a minute).
SESSION_SEEN_KEY = "_crm_seen"
SEEN_RESOLUTION = 60
# A CSP report is a few hundred bytes; anything far larger is not a browser's report.
CSP_REPORT_MAX_BYTES = 16 * 1024


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer; `Cache-Control: no-store, private` on every private one.

    Private: any answer to a signed-in user (session or API token) and every API answer (a
    token is handed out in one), so a shared computer's back button or a proxy never shows a
    coach's page after logout.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path_info.startswith("/api/"):
            response["Cache-Control"] = "no-store, private"
            response.headers.pop("Expires", None)
        return response


class SessionIdleTimeoutMiddleware:
    """Log a session out after `SESSION_IDLE_MINUTES` without a request.

    Sits between AuthenticationMiddleware and LoginRequiredMiddleware: an expired session is
    anonymous by the time the login requirement is checked, so the user meets the login page.
    The activity stamp is rewritten at most once a minute, not on every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            seen = request.session.get(SESSION_SEEN_KEY)
            if seen is not None and now - seen > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
            elif seen is None or now - seen >= SEEN_RESOLUTION:
                request.session[SESSION_SEEN_KEY] = now
        return self.get_response(request)


def session_stamp_login(sender, request, user, **kwargs):
    """Stamp a new session at login, so that its first pages need no extra session write."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_SEEN_KEY] = int(time.time())


@login_not_required
@csrf_exempt  # browsers send reports without a CSRF token
@require_POST
def csp_report(request):
    """Log a browser's CSP violation report (both report formats); always 204."""
    body = request.body[:CSP_REPORT_MAX_BYTES] if int(request.headers.get("Content-Length") or 0) else b""
    try:
        report = json.loads(body or b"{}")
    except ValueError:
        report = {"unreadable": body[:200].decode("utf-8", "replace")}
    reports = report if isinstance(report, list) else [report]
    for item in reports:
        if isinstance(item, dict):
            detail = item.get("csp-report") or item.get("body") or item
            logger.warning("CSP violation: %s", json.dumps(detail, sort_keys=True)[:2000])
    return HttpResponse(status=204)
