# What every API resource shares: errors, pagination, permissions, base views, the router class.
"""The API kernel.

A resource lives in its app's `api.py` (serializers + viewsets) and is registered in
`coachcrm.urls.api_urls()`. Viewsets read through the access module (`access.coaches(user)`,
`access.get(...)`), and related ids go through `access.api.ScopedRelatedField`, so that anything
out of scope is a 404 (or "does not exist"),
and write through the app's services; a service's `ValidationError` becomes a 400 (or a 409
for the codes in `CONFLICT_CODES`) in the one error format `{"code", "detail", "fields"}`.
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import api_view, schema
from rest_framework.exceptions import ErrorDetail
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from coachcrm import jobs

# Service refusals that mean "the request is fine but the record's state forbids it".
CONFLICT_CODES = {"coach_required", "token_limit", "invalid_transition"}


def request_user(serializer):
    """The signed-in user a serializer works for, or None (schema generation, anonymous requests)."""
    user = getattr(serializer.context.get("request"), "user", None)
    return user if user is not None and user.is_authenticated else None


def query_data(request) -> dict:
    """A GET's query parameters for a strict serializer: all but DRF's own `?format=`."""
    return {key: value for key, value in request.query_params.items() if key != api_settings.URL_FORMAT_OVERRIDE}


# --- Strict writes ----------------------------------------------------------------------------


def _same_value(sent, current) -> bool:
    """Whether a value a client sent back is the one it read (GET-modify-PUT), numbers and ids alike."""
    if sent == current:
        return True
    if isinstance(sent, dict | list) or isinstance(current, dict | list):
        return False
    try:
        return Decimal(str(sent)) == Decimal(str(current))
    except (InvalidOperation, ValueError):
        return str(sent) == str(current)


class StrictWrites:
    """A write names only fields the client may set: anything else is a 400 naming the field.

    An unknown field answers `unknown_field`; a read-only one (or one the user's role may not
    set) answers `read_only_field` — unless it carries the value the record has now, so that a
    client may send back what it read (GET-modify-PUT). On a create there is no record yet: a
    read-only field is accepted only empty, or with the value the service would give it
    (`implied_values()`, e.g. a rep's own id as `owner`). Checked on the top-level serializer
    only; every serializer that takes a request body derives from this class (a test checks).
    """

    def implied_values(self) -> dict:
        """Values of read-only fields a create may carry because the service would set them so."""
        return {}

    def run_validation(self, data=serializers.empty):
        if self.parent is None and isinstance(data, Mapping):
            self._refuse_fields_not_writable(data)
        return super().run_validation(data)

    def _refuse_fields_not_writable(self, data: Mapping) -> None:
        fields = self.fields
        errors = {}
        unknown = [name for name in data if name not in fields]
        for name in unknown:
            errors[name] = [ErrorDetail(_("This field does not exist."), code="unknown_field")]
        read_only = [name for name in data if name in fields and fields[name].read_only]
        if read_only:
            if self.instance is not None and not isinstance(self.instance, list | tuple):
                current = self.to_representation(self.instance)
            else:
                current = dict.fromkeys(read_only) | self.implied_values()
            for name in read_only:
                sent = data[name]
                if _same_value(sent, current.get(name)) or (self.instance is None and sent in (None, "", [])):
                    continue
                errors[name] = [ErrorDetail(_("This field cannot be set here."), code="read_only_field")]
        if errors:
            # Read-only first: that is the code a client most needs to act on.
            errors = dict(sorted(errors.items(), key=lambda item: item[1][0].code != "read_only_field"))
            raise serializers.ValidationError(errors)


class CrmSerializer(StrictWrites, serializers.Serializer):
    """A request body that is not a model: strict like every write."""


class CrmModelSerializer(StrictWrites, serializers.ModelSerializer):
    """A model's representation and its writes: strict like every write."""


class CrmPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class AdminWritesOnly(BasePermission):
    """Anyone signed in reads; only admins create and change."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or (request.user.is_authenticated and request.user.is_admin)


class AdminOnly(BasePermission):
    """Admins only, reads included (the authority matrix, webhooks)."""

    def has_permission(self, request, view):
        return request.user.is_authenticated and request.user.is_admin


# --- Errors ---------------------------------------------------------------------------------


class ErrorSerializer(CrmSerializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


def flatten_errors(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in flatten_errors(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in flatten_errors(value)]
    return [str(detail)]


def _first_code(codes, default: str) -> str:
    while isinstance(codes, dict | list):
        if not codes:
            return default
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes or default)


def _service_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's refusal as a DRF error with the same messages and fields."""
    if hasattr(exc, "error_dict"):
        detail = {("non_field_errors" if f == "__all__" else f): m for f, m in exc.message_dict.items()}
        codes = [e.code for errors in exc.error_dict.values() for e in errors]
    else:
        detail = exc.messages
        codes = [e.code for e in exc.error_list]
    code = next((c for c in codes if c), "invalid")
    error = exceptions.ValidationError(detail, code=code)
    error.service_code = code
    # What a refusal adds for clients (the gate's `requirement` and `missing`), beside the one format.
    error.extra = dict(getattr(exc, "extra", None) or {})
    return error


def exception_handler(exc, context):
    """Every error as `{"code", "detail"}`, plus `fields` (field → messages) on a 400."""
    if isinstance(exc, DjangoValidationError):
        exc = _service_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code = getattr(exc, "service_code", None) or _first_code(exc.get_codes(), "invalid")
        data = {"code": code, "detail": " ".join(flatten_errors(exc.detail)) or str(_("Invalid input."))}
        if isinstance(exc.detail, dict):
            fields = {field: flatten_errors(messages) for field, messages in exc.detail.items()}
            data["fields"] = fields
            non_field = fields.pop("non_field_errors", None)
            data["detail"] = " ".join(non_field) if non_field else str(_("Check the fields marked."))
        if code in CONFLICT_CODES:
            response.status_code = status.HTTP_409_CONFLICT
        response.data = {**getattr(exc, "extra", {}), **data}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = _first_code(exc.get_codes(), "error") if isinstance(exc, exceptions.APIException) else "error"
        response.data = {"code": code, "detail": " ".join(flatten_errors(detail))}
    return response


class CrmAutoSchema(AutoSchema):
    """Documents the error format on every operation, so clients (and schemathesis) know it."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["401", "403", "404", "429"]
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if self.method == "POST":
            codes.append("409")
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code, direction=direction))
        return responses


# --- Base views ------------------------------------------------------------------------------


class _JobsDelayedHint:
    # A write whose follow-up jobs could not be handed to the broker is saved all the same; the
    # answer says so, as the page does with a message.
    def finalize_response(self, request, response, *args, **kwargs):
        if jobs.delayed() and request.method not in SAFE_METHODS and isinstance(getattr(response, "data", None), dict):
            response.data["jobs_delayed"] = True
            request._request.jobs_delayed_reported = True
        return super().finalize_response(request, response, *args, **kwargs)


class CrmViewSet(_JobsDelayedHint, viewsets.GenericViewSet):
    """Base of every resource: `create` / `update` validate with the serializer, then call a service."""

    pagination_class = CrmPagination
    schema = CrmAutoSchema()

    def created(self, instance, serializer_class=None) -> Response:
        serializer = (serializer_class or self.get_serializer_class())(instance, context=self.get_serializer_context())
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class CrmAPIView(_JobsDelayedHint, APIView):
    schema = CrmAutoSchema()


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@schema(None)
def not_found(request):
    raise exceptions.NotFound()
