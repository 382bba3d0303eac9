# REST API for users and API tokens (/api/v1/).
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

import access
from coachcrm.api import (
    AdminOnly,
    AdminWritesOnly,
    CrmAPIView,
    CrmModelSerializer,
    CrmSerializer,
    CrmViewSet,
    ErrorSerializer,
)
from team import selectors, services
from team.filters import SecurityEventFilter
from team.models import Notification, SecurityEvent, User


class UserSerializer(CrmModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    manager = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True, required=False)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "role",
            "manager",
            "selling_style",
            "status",
            "departure_date",
            "is_active",
        ]
        # Departures change status through their own service; never through an update.
        read_only_fields = ["status", "departure_date", "is_active"]


class UserUpdateSerializer(UserSerializer):
    class Meta(UserSerializer.Meta):
        fields = [f for f in UserSerializer.Meta.fields if f != "password"]
        read_only_fields = [*UserSerializer.Meta.read_only_fields, "username"]


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Users: reps see themselves and their manager, managers their team, admins everyone (and change them)."""

    queryset = User.objects.none()  # the model, for the schema; get_queryset() scopes it
    permission_classes = [IsAuthenticated, AdminWritesOnly]
    filterset_fields = ["role", "status", "manager"]

    def get_queryset(self):
        return access.users(self.request.user).select_related("manager").order_by("username", "pk")

    def get_serializer_class(self):
        return UserUpdateSerializer if self.action in ("update", "partial_update") else UserSerializer

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(by=request.user, **serializer.validated_data)
        return self.created(user)

    def update(self, request, pk=None, partial=False):
        user = self.get_object()
        serializer = self.get_serializer(user, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.user_update(user=user, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path="token", url_name="token", permission_classes=[IsAuthenticated])
    def revoke_token(self, request, pk=None):
        """Revoke all the user's API tokens (every client): admins anyone's, others only their own."""
        user = self.get_object()
        if not (request.user.is_admin or user.pk == request.user.pk):
            raise exceptions.PermissionDenied(_("Only an admin can revoke another user's token."))
        services.api_tokens_revoke(user=user, by=request.user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRequestSerializer(CrmSerializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The code of the user's authenticator app (or a recovery code), when he has two-factor sign-in.",
    )


class TokenView(CrmAPIView):
    """POST: trade a user name and password for a new token for this client. DELETE: revoke the token used."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse",
                {
                    "token": serializers.CharField(help_text="Send it as `Authorization: Token <token>`."),
                    "expiry": serializers.DateTimeField(
                        help_text="When the token expires unless used: each use pushes it back "
                        "(`API_TOKEN_TTL_HOURS` after the use)."
                    ),
                },
            )
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, not DRF's: django-axes counts the failures on it and refuses
        # locked-out users, and the backends refuse departed ones — the login page's rules.
        django_request = request._request
        code = serializer.validated_data.pop("code", "")
        user = authenticate(django_request, **serializer.validated_data)
        if user is not None and services.mfa_enabled(user):
            credentials = {"username": user.get_username()}
            if not code:
                raise exceptions.AuthenticationFailed(
                    _("This user signs in with a second factor: send the code of his app as `code`."),
                    code="mfa_required",
                )
            if services.mfa_verify(user=user, code=code) is None:
                # Counted by django-axes like a wrong password.
                user_login_failed.send(sender=__name__, credentials=credentials, request=django_request, reason="code")
                if AxesProxyHandler.is_locked(django_request, credentials):
                    django_request.axes_locked_out = True
                else:
                    raise exceptions.AuthenticationFailed(_("That code does not match."), code="invalid_code")
        elif user is not None and services.mfa_required(user):
            raise exceptions.PermissionDenied(
                _("Set up two-factor sign-in on your profile before asking for an API token."),
                code="mfa_setup_required",
            )
        if getattr(django_request, "axes_locked_out", False):
            # Answered here as JSON; the axes middleware would otherwise send the HTML page.
            django_request.axes_locked_out = False
            return Response(
                {"code": "locked_out", "detail": _("Too many failed logins. Try again later.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None:
            raise exceptions.AuthenticationFailed(_("Wrong user name or password."), code="invalid_credentials")
        instance, token = services.api_token_create(user=user, request=django_request)
        return Response({"token": token, "expiry": serializers.DateTimeField().to_representation(instance.expiry)})

    @extend_schema(request=None, responses={204: None, 400: ErrorSerializer})
    def delete(self, request):
        # Only this client logs out; the user's other clients keep their tokens.
        if not isinstance(request.auth, AuthToken):
            raise exceptions.ValidationError(
                _(
                    "This request was not made with a token. To revoke all your tokens, "
                    "use DELETE /api/v1/users/%(id)s/token/."
                )
                % {"id": request.user.pk},
                code="no_token",
            )
        services.api_token_revoke(token=request.auth, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationSerializer(CrmModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "message", "link", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, CrmViewSet):
    """The requesting user's own notices, newest first; nobody reads another's."""

    queryset = Notification.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = NotificationSerializer
    filterset_fields = {"read_at": ["isnull"]}

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("NotificationsRead", {"marked": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark all of one's notices read (like the page's button); answers how many were unread."""
        return Response({"marked": services.notifications_mark_read(user=request.user)})


class SecurityEventSerializer(CrmModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = ["id", "created_at", "kind", "user", "username", "by", "address", "user_agent", "detail"]
        read_only_fields = fields


class SecurityEventViewSet(mixins.ListModelMixin, CrmViewSet):
    """The login audit (admins only), newest first: filter by `user`, `kind`, `date_from`, `date_to`."""

    queryset = SecurityEvent.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = SecurityEventSerializer
    permission_classes = [IsAuthenticated, AdminOnly]
    filterset_class = SecurityEventFilter

    def get_queryset(self):
        return selectors.security_event_list(queryset=access.security_events(self.request.user))
