# REST API for coaches and interactions (/api/v1/).
import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

import access
from access.api import ScopedModelSerializer, ScopedRelatedField
from accounts.models import Account, Contact
from coachcrm.api import CrmSerializer, CrmViewSet, request_user
from coaches import selectors, services
from coaches.models import Coach, Interaction


class CoachApiFilter(django_filters.FilterSet):
    class Meta:
        model = Coach
        fields = ["status", "at_risk", "account"]


class HolderSerializer(CrmSerializer):
    user = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    is_primary = serializers.BooleanField()
    since = serializers.DateField()


class CoachSerializer(ScopedModelSerializer):
    account = ScopedRelatedField(queryset=Account.objects.all())
    account_name = serializers.CharField(source="account.name", read_only=True)
    contact = ScopedRelatedField(queryset=Contact.objects.all())
    contact_name = serializers.CharField(source="contact.__str__", read_only=True)
    holders = HolderSerializer(many=True, read_only=True)
    status_reason = serializers.CharField(
        source="status_reason_display",
        read_only=True,
        help_text="Why it lapsed or ended, in the language of the request (Accept-Language).",
    )
    at_risk_reason = serializers.CharField(
        source="at_risk_reason_display",
        read_only=True,
        help_text="Why the relationship is at risk, in the language of the request.",
    )

    class Meta:
        model = Coach
        fields = [
            "id",
            "account",
            "account_name",
            "contact",
            "contact_name",
            *services.CRITERIA,
            "status",
            "status_reason",
            "established_on",
            "last_verified_on",
            "last_interaction_on",
            "at_risk",
            "at_risk_reason",
            "holders",
            "created_at",
        ]
        # Status and risk change through their own services (lapse/end, departures), never an update.
        read_only_fields = [
            "status",
            "status_reason",
            "last_verified_on",
            "last_interaction_on",
            "at_risk",
            "at_risk_reason",
            "created_at",
        ]


class CoachVerifySerializer(CoachSerializer):
    """An update is a verification: the strength and the criteria, confirmed today; nothing else changes."""

    account = serializers.PrimaryKeyRelatedField(read_only=True)
    contact = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(CoachSerializer.Meta):
        read_only_fields = [f for f in CoachSerializer.Meta.fields if f not in services.CRITERIA]


class CoachViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Coaches the user may see (as a holder, his reps' as a manager, all as an admin)."""

    queryset = Coach.objects.none()  # the model, for the schema; get_queryset() scopes it
    filterset_class = CoachApiFilter

    def get_queryset(self):
        return selectors.coach_list(user=self.request.user)

    def get_serializer_class(self):
        return CoachVerifySerializer if self.action in ("update", "partial_update") else CoachSerializer

    def _coach(self, pk) -> Response:
        return Response(CoachSerializer(self.get_queryset().get(pk=pk), context=self.get_serializer_context()).data)

    @extend_schema(responses={201: CoachSerializer})
    def create(self, request):
        """Record a contact as coach at his current account; you become the primary holder."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coach = services.coach_record(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=coach.pk), CoachSerializer)

    @extend_schema(responses={200: CoachSerializer})
    def update(self, request, pk=None, partial=False):
        """Verify the coach: confirm (and correct) the strength and criteria today."""
        coach = self.get_object()
        serializer = self.get_serializer(coach, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.coach_verify(coach=coach, by=request.user, **serializer.validated_data)
        return self._coach(coach.pk)

    @extend_schema(responses={200: CoachSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)


class InteractionSerializer(ScopedModelSerializer):
    coach = ScopedRelatedField(queryset=Coach.objects.all())
    user = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Interaction
        fields = ["id", "coach", "user", "kind", "occurred_on", "note", "created_at"]
        read_only_fields = ["created_at"]

    def implied_values(self) -> dict:
        # The interaction is the requesting user's: his own id is no change.
        user = request_user(self)
        return {"user": user.pk} if user is not None else {}


class InteractionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Touches with the coaches the user may see, newest first; logged through `interaction_log`."""

    queryset = Interaction.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = InteractionSerializer
    filterset_fields = ["coach", "kind"]

    def get_queryset(self):
        return (
            Interaction.objects.filter(coach__in=access.coaches(self.request.user))
            .select_related("user")
            .order_by("-occurred_on", "-pk")
        )

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = services.interaction_log(by=request.user, **serializer.validated_data)
        return self.created(interaction)
