# Under /api/ every answer is JSON: the body size limit, and Django's own error pages in the error format.
from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"

# The code a client sees for an error Django (not DRF) answered: a 500, a body too large, a
# host or CSRF refusal, a 404 outside the router.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
}


def _status_detail(status: int) -> str:
    details = {
        400: _("Bad request."),
        403: _("You do not have permission to perform this action."),
        404: _("Not found."),
        413: _("The request body is too large."),
        500: _("Something went wrong on our side; it has been logged. Try again later."),
    }
    return details.get(status, _("The request failed."))


def _error(status: int, detail: str | None = None) -> JsonResponse:
    code = STATUS_CODES.get(status, "error")
    return JsonResponse({"code": code, "detail": detail or _status_detail(status)}, status=status)


class ApiErrorsMiddleware:
    """Refuses a too-large API body before anything reads it, and answers JSON for Django's HTML errors."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, _("The Content-Length header is not a number."))
        if length > settings.API_MAX_BODY_BYTES:
            return _error(
                413,
                _("The request body is too large: at most %(limit)s bytes.") % {"limit": settings.API_MAX_BODY_BYTES},
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            # Django answered (its 500 page, a DisallowedHost 400, ...): same format as DRF's errors.
            return _error(response.status_code)
        return response
