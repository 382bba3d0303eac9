from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

import access
from coachcrm.api import AdminWritesOnly, CrmAPIView, CrmViewSet, ErrorSerializer
from coaches.models import Handover
from team import departures, selectors, services
from team.models import User


class UserSerializer(serializers.ModelSerializer):
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


class DepartSerializer(serializers.Serializer):
    departure_date = serializers.DateField()


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

    @extend_schema(request=DepartSerializer, responses={202: UserSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def depart(self, request, pk=None):
        """Start the rep's departure on a date (his manager or an admin); his coaches are flagged in the background."""
        user = self.get_object()
        if not (request.user.is_admin or (request.user.is_manager and user.manager_id == request.user.pk)):
            raise exceptions.PermissionDenied(
                _("Only %(name)s's manager or an admin can start his departure.") % {"name": user}
            )
        serializer = DepartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        departures.user_mark_leaving(user=user, by=request.user, **serializer.validated_data)
        return Response(UserSerializer(self.get_object()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path="token", url_name="token", permission_classes=[IsAuthenticated])
    def revoke_token(self, request, pk=None):
        """Revoke all the user's API tokens (every client): admins anyone's, others only their own."""
        user = self.get_object()
        if not (request.user.is_admin or user.pk == request.user.pk):
            raise exceptions.PermissionDenied(_("Only an admin can revoke another user's token."))
        services.api_tokens_revoke(user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


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
        user = authenticate(django_request, **serializer.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            # Answered here as JSON; the axes middleware would otherwise send the HTML page.
            django_request.axes_locked_out = False
            return Response(
                {"code": "locked_out", "detail": _("Too many failed logins. Try again later.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None:
            raise exceptions.AuthenticationFailed(_("Wrong user name or password."), code="invalid_credentials")
        instance, token = services.api_token_create(user=user)
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
        services.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HandoverSerializer(serializers.ModelSerializer):
    coach_name = serializers.CharField(source="coach.__str__", read_only=True)
    reason = serializers.CharField(
        source="reason_display",
        read_only=True,
        help_text="Why the coach was at risk, in the language of the request (Accept-Language).",
    )

    class Meta:
        model = Handover
        fields = [
            "id",
            "coach",
            "coach_name",
            "from_user",
            "to_user",
            "reason",
            "due_on",
            "status",
            "created_at",
            "done_at",
        ]
        read_only_fields = fields


class HandoverReassignSerializer(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())


class HandoverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Handovers the user may see: his own (either side), his reps' as a manager, all as an admin."""

    queryset = Handover.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = HandoverSerializer
    filterset_fields = ["status", "from_user", "to_user"]

    def get_queryset(self):
        return (
            access.handovers(self.request.user)
            .select_related("coach__account", "coach__contact")
            .order_by("status", "due_on", "pk")
        )

    @extend_schema(request=HandoverReassignSerializer, responses={200: HandoverSerializer})
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Give an open handover to another successor (the leaving rep's manager or an admin)."""
        handover = self.get_object()
        if request.user.is_rep:
            raise exceptions.PermissionDenied(_("Only the leaving rep's manager or an admin can reassign a handover."))
        serializer = HandoverReassignSerializer(data=request.data)
        # Only the people the page offers: active, staying users of the manager's team.
        serializer.fields["to_user"].queryset = selectors.successor_candidates(user=request.user)
        serializer.is_valid(raise_exception=True)
        departures.handover_reassign(handover=handover, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=handover.pk)).data)
