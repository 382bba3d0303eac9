# REST API for coaches and interactions (/api/v1/).
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

import access
from access.api import ScopedModelSerializer, ScopedRelatedField
from accounts.models import Account, Contact
from coachcrm.api import CrmModelSerializer, CrmSerializer, CrmViewSet, request_user
from coachcrm.filters import CrmFilterSet
from coaches import selectors, services
from coaches.models import Coach, CoachMove, Holder, Interaction, StanceReport, StyleReport
from team.models import User


class CoachApiFilter(CrmFilterSet):
    class Meta:
        model = Coach
        fields = ["status", "at_risk", "account"]


class HolderSerializer(CrmSerializer):
    id = serializers.IntegerField(read_only=True, help_text="The holder row, for remove and make-primary.")
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
    cadence = serializers.IntegerField(
        read_only=True, help_text="Days between touches: cadence_days or the strength's default."
    )
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
            "unconfirmed",
            "last_interaction_on",
            "cadence_days",
            "cadence",
            "next_touch_due",
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
            "unconfirmed",
            "last_interaction_on",
            "cadence_days",
            "next_touch_due",
            "at_risk",
            "at_risk_reason",
            "created_at",
        ]


class CadenceSerializer(CrmSerializer):
    cadence_days = serializers.IntegerField(allow_null=True, help_text="Days between touches; null: the default.")


class CoachVerifySerializer(CoachSerializer):
    """An update is a verification: the strength and the criteria, confirmed today; nothing else changes."""

    account = serializers.PrimaryKeyRelatedField(read_only=True)
    contact = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(CoachSerializer.Meta):
        read_only_fields = [f for f in CoachSerializer.Meta.fields if f not in services.CRITERIA]


class HolderAddSerializer(CrmSerializer):
    # Any active user, like the page's choice; the service refuses one who already holds the coach.
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.active())
    is_primary = serializers.BooleanField(required=False, default=False)


class CoachStatusSerializer(CrmSerializer):
    status = serializers.ChoiceField(choices=Coach.Status.choices)
    reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Required to lapse or end."
    )


class CoachViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Coaches the user may see (as a holder, his reps' as a manager, all as an admin)."""

    queryset = Coach.objects.none()  # the model, for the schema; get_queryset() scopes it
    filterset_class = CoachApiFilter

    def get_queryset(self):
        return selectors.coach_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "set_status":
            return CoachStatusSerializer
        if self.action == "cadence":
            return CadenceSerializer
        return CoachVerifySerializer if self.action in ("update", "partial_update", "verify") else CoachSerializer

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
        """Verify the coach (an alias of `verify`)."""
        return self.update(request, pk=pk, partial=True)

    @extend_schema(responses={200: CoachSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Verify the coach today, correcting the strength and criteria sent (the others stay as they are)."""
        return self.update(request, pk=pk, partial=True)

    @extend_schema(responses={200: CoachSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        """Lapse, end or revive the coach (the page's status change): 400 without a reason, 409 if impossible."""
        coach = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.coach_set_status(coach=coach, by=request.user, **serializer.validated_data)
        return self._coach(coach.pk)

    @extend_schema(responses={200: CoachSerializer})
    @action(detail=True, methods=["post"])
    def cadence(self, request, pk=None):
        """Set how often to touch the coach (null: the default for his strength); moves `next_touch_due`."""
        coach = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.coach_set_cadence(coach=coach, by=request.user, **serializer.validated_data)
        return self._coach(coach.pk)

    def _holder(self, pk, holder_pk) -> Holder:
        coach = self.get_object()
        holder = access.get(self.request.user, Holder.objects.select_related("coach", "user"), holder_pk)
        if holder.coach_id != coach.pk:
            raise Http404
        return holder

    @extend_schema(request=HolderAddSerializer, responses={201: CoachSerializer})
    @action(detail=True, methods=["post"], url_path="holders", url_name="holders")
    def holder_add(self, request, pk=None):
        """Add a holder to the relationship (optionally as the primary one), as on the coach page."""
        coach = self.get_object()
        serializer = HolderAddSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.holder_add(coach=coach, by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=coach.pk), CoachSerializer)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("holder_pk", int, OpenApiParameter.PATH)],
        responses={200: CoachSerializer},
    )
    @action(detail=True, methods=["delete"], url_path=r"holders/(?P<holder_pk>\d+)", url_name="holder-remove")
    def holder_remove(self, request, pk=None, holder_pk=None):
        """Take a holder off the relationship (the last one stays; a removed primary is succeeded)."""
        services.holder_remove(holder=self._holder(pk, holder_pk), by=request.user)
        return self._coach(pk)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("holder_pk", int, OpenApiParameter.PATH)],
        responses={200: CoachSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"holders/(?P<holder_pk>\d+)/primary", url_name="holder-primary")
    def holder_primary(self, request, pk=None, holder_pk=None):
        """Make this holder the primary one."""
        services.holder_set_primary(holder=self._holder(pk, holder_pk), by=request.user)
        return self._coach(pk)


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


class StanceReportSerializer(ScopedModelSerializer):
    contact = ScopedRelatedField(queryset=Contact.objects.all())
    coach = ScopedRelatedField(
        queryset=Coach.objects.all(), required=False, allow_null=True, help_text="Empty: the rep saw it himself."
    )
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = StanceReport
        fields = ["id", "contact", "stance", "coach", "recorded_by", "reported_on", "note", "created_at"]
        read_only_fields = ["created_at"]


class StanceReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Where people stand toward us, newest first: coach-sourced ones only for who may see the coach."""

    queryset = StanceReport.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = StanceReportSerializer
    filterset_fields = ["contact", "stance", "coach"]

    def get_queryset(self):
        return access.stance_reports(self.request.user).order_by("-reported_on", "-pk")

    def create(self, request):
        """Record a stance (reported by one of your coaches at the person's account, or seen yourself)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.stance_report_record(by=request.user, **serializer.validated_data)
        return self.created(report)


class StyleReportSerializer(ScopedModelSerializer):
    contact = ScopedRelatedField(queryset=Contact.objects.all(), help_text="The person whose buying style it is.")
    coach = ScopedRelatedField(queryset=Coach.objects.all(), help_text="The coach who told us.")
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)
    reported_on = serializers.DateField(required=False, help_text="Default: today.")

    class Meta:
        model = StyleReport
        fields = ["id", "contact", "coach", "style", "confidence", "reported_on", "note", "recorded_by", "created_at"]
        read_only_fields = ["created_at"]

    def implied_values(self) -> dict:
        user = request_user(self)
        return {"recorded_by": user.pk} if user is not None else {}


class StyleReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """What coaches told us about how people buy (the ones the user may see), newest first."""

    queryset = StyleReport.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = StyleReportSerializer
    filterset_fields = ["contact", "coach", "style"]

    def get_queryset(self):
        return access.style_reports(self.request.user).order_by("-reported_on", "-pk")

    def create(self, request):
        """Record a coach's report on a person's buying style (the person must work at the coach's account)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.style_report_record(by=request.user, **serializer.validated_data)
        return self.created(report)


class ConflictSerializer(CrmModelSerializer):
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    winning_territory = serializers.IntegerField(source="win_id", read_only=True)
    winning_territory_name = serializers.CharField(source="win_name", read_only=True)
    covering_count = serializers.IntegerField(read_only=True, help_text="Territories that cover the account.")
    split = serializers.BooleanField(
        read_only=True, help_text="Several covering territories with different members (the first one wins)."
    )
    owner_outside = serializers.BooleanField(
        read_only=True, help_text="The owner is a member of none of the territories that cover it."
    )
    rival_holders = serializers.BooleanField(
        read_only=True, help_text="A rep outside the winning territory holds an active coach there."
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "owner",
            "owner_name",
            "winning_territory",
            "winning_territory_name",
            "covering_count",
            "split",
            "owner_outside",
            "rival_holders",
        ]
        read_only_fields = fields


class ConflictViewSet(mixins.ListModelMixin, CrmViewSet):
    """Accounts that break the division of labour (managers their team's, admins all; not for reps)."""

    queryset = Account.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = ConflictSerializer

    def get_queryset(self):
        if self.request.user.is_rep:
            raise exceptions.PermissionDenied(_("The conflict report is for managers and admins."))
        return selectors.territory_conflicts(user=self.request.user)


class CoachMoveSerializer(CrmModelSerializer):
    contact_name = serializers.CharField(source="contact.__str__", read_only=True)
    contacted = serializers.BooleanField(read_only=True, help_text="Someone has touched the new coach record.")

    class Meta:
        model = CoachMove
        fields = [
            "id",
            "contact",
            "contact_name",
            "from_account",
            "to_account",
            "old_coach",
            "new_coach",
            "start_date",
            "opportunity",
            "contacted",
            "created_at",
        ]
        read_only_fields = fields


class CoachMoveViewSet(mixins.ListModelMixin, CrmViewSet):
    """ "Moved coaches": the recent moves the user may see, past buyers first (the page's follow-up list)."""

    queryset = CoachMove.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = CoachMoveSerializer

    def get_queryset(self):
        return selectors.coach_move_list(user=self.request.user)
