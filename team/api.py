from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from coachcrm.api import AdminWritesOnly, CrmAPIView, CrmViewSet
from team import services
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


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Users: reps see themselves and their manager, managers their team, admins everyone (and change them)."""

    queryset = User.objects.none()  # the model, for the schema; get_queryset() scopes it
    permission_classes = [IsAuthenticated, AdminWritesOnly]
    filterset_fields = ["role", "status", "manager"]

    def get_queryset(self):
        return User.objects.visible_to(self.request.user).select_related("manager").order_by("username", "pk")

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
        """Revoke the user's API token: admins anyone's, others only their own."""
        user = self.get_object()
        if not (request.user.is_admin or user.pk == request.user.pk):
            raise exceptions.PermissionDenied(_("Only an admin can revoke another user's token."))
        Token.objects.filter(user=user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenView(CrmAPIView):
    """POST: trade a user name and password for the user's token. DELETE: revoke your own token."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
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
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
