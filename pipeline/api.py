# REST API for stages, deals (moves and overrides through the gate) and the dashboard (/api/v1/).
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

import access
from access.api import ScopedModelSerializer, ScopedRelatedField
from accounts.models import Account, Contact, ProductLine
from coachcrm.api import (
    AdminWritesOnly,
    CrmAPIView,
    CrmModelSerializer,
    CrmSerializer,
    CrmViewSet,
    ErrorSerializer,
    request_user,
)
from coaches.models import Coach, Stance
from csvio.api import ExternalIdSerializer
from pipeline import selectors, services
from pipeline.dashboard import dashboard_summary, quarter_of
from pipeline.filters import OpportunityApiFilter
from pipeline.forecast import forecast_summary
from pipeline.forms import DashboardFilterForm
from pipeline.models import GateSweep, LossReason, Opportunity, OpportunityContact, Stage
from team.models import User


class StageSerializer(ScopedModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "order", "probability", "coach_requirement", "is_won", "is_lost"]


class LossReasonSerializer(CrmModelSerializer):
    label = serializers.CharField(read_only=True, help_text="The name in the language of the request.")

    class Meta:
        model = LossReason
        fields = ["id", "name", "label", "order", "active"]


class OpportunitySerializer(ScopedModelSerializer):
    account = ScopedRelatedField(queryset=Account.objects.all())
    account_name = serializers.CharField(source="account.name", read_only=True)
    product_line = serializers.SlugRelatedField(slug_field="name", queryset=ProductLine.objects.all())
    owner = ScopedRelatedField(queryset=User.objects.all(), required=False)
    has_coach = serializers.BooleanField(
        read_only=True, help_text="The account has a qualified coach now (coach or champion, the three criteria yes)."
    )
    held_back_reason = serializers.CharField(
        source="held_back_reason_display",
        read_only=True,
        help_text="Why the deal waits for a coach, in the language of the request (Accept-Language).",
    )
    source = serializers.CharField(
        source="source_display",
        read_only=True,
        help_text="Where the deal came from (e.g. a coach who moved), in the language of the request.",
    )
    external_ids = ExternalIdSerializer(
        many=True, read_only=True, help_text="Its ids in the CRMs it was imported from; written by imports only."
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "name",
            "account",
            "account_name",
            "product_line",
            "amount",
            "currency",
            "stage",
            "owner",
            "expected_close",
            "status",
            "held_back",
            "held_back_reason",
            "source",
            "has_coach",
            "closed_at",
            "loss_reason",
            "loss_note",
            "created_at",
            "external_ids",
        ]
        # The stage and the status change only through move, override and reopen; the hold-back is the gate's.
        read_only_fields = [
            "currency",
            "stage",
            "status",
            "held_back",
            "held_back_reason",
            "closed_at",
            "loss_reason",
            "loss_note",
            "created_at",
        ]

    def implied_values(self) -> dict:
        user = request_user(self)
        return {"owner": user.pk} if user is not None and user.is_rep else {}

    def get_fields(self):
        fields = super().get_fields()
        user = request_user(self)
        if user is not None and user.is_rep:
            # A rep owns his deals: another `owner` than his own is refused as a read-only field.
            fields["owner"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class OpportunityUpdateSerializer(OpportunitySerializer):
    # The account of a deal never changes (declared, so the field is read-only: Meta's
    # read_only_fields do not apply to a declared field).
    account = serializers.PrimaryKeyRelatedField(read_only=True)


class ContactRoleSerializer(ScopedModelSerializer):
    contact = ScopedRelatedField(queryset=Contact.objects.all(), help_text="A person who works at the deal's account.")
    contact_name = serializers.CharField(source="contact.__str__", read_only=True)

    class Meta:
        model = OpportunityContact
        fields = ["id", "contact", "contact_name", "role", "created_at"]
        read_only_fields = ["created_at"]


class MoveSerializer(CrmSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    loss_reason = serializers.PrimaryKeyRelatedField(
        queryset=LossReason.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Required with a lost stage (`/loss-reasons/`); refused with any other.",
    )
    loss_note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OverrideSerializer(CrmSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    reason = serializers.CharField(max_length=500, help_text="Why this deal may pass the gate without a coach.")


class ReopenSerializer(CrmSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.open(), help_text="An open stage.")
    reason = serializers.CharField(max_length=500, help_text="Why the closed deal is reopened.")


class LossReasonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Why deals are lost: the list the admins keep (in the Django admin); a move to a lost stage names one."""

    queryset = LossReason.objects.all()
    serializer_class = LossReasonSerializer


class CommitteeMemberSerializer(CrmSerializer):
    """A person to put on the committee (or update): the service's arguments; empty ones change nothing."""

    contact = ScopedRelatedField(queryset=Contact.objects.all())
    role = serializers.ChoiceField(choices=OpportunityContact.Role.choices)
    holder = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    last_touch_on = serializers.DateField(required=False, allow_null=True)
    stance = serializers.ChoiceField(choices=Stance.choices, required=False, allow_blank=True)
    stance_coach = ScopedRelatedField(
        queryset=Coach.objects.all(), required=False, allow_null=True, help_text="Empty: the rep saw it himself."
    )
    stance_note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    reports_to = ScopedRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)


class StageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """The pipeline's stages in order; admins add and change them through the stage services."""

    queryset = Stage.objects.order_by("order")
    serializer_class = StageSerializer
    permission_classes = [IsAuthenticated, AdminWritesOnly]

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stage = services.stage_create(by=request.user, **serializer.validated_data)
        return self.created(stage)

    def update(self, request, pk=None, partial=False):
        stage = self.get_object()
        serializer = self.get_serializer(stage, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.stage_update(stage=stage, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)


class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Deals the user may see; moved through the gate like on the board."""

    queryset = Opportunity.objects.none()  # the model, for the schema; get_queryset() scopes it
    filterset_class = OpportunityApiFilter

    def get_queryset(self):
        return selectors.opportunity_list(user=self.request.user).prefetch_related("external_ids")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return OpportunityUpdateSerializer
        if self.action == "move":
            return MoveSerializer
        if self.action == "override":
            return OverrideSerializer
        if self.action == "reopen":
            return ReopenSerializer
        if self.action == "committee":
            return CommitteeMemberSerializer
        return OpportunitySerializer

    def _opportunity(self, pk) -> Response:
        return Response(
            OpportunitySerializer(self.get_queryset().get(pk=pk), context=self.get_serializer_context()).data
        )

    @extend_schema(responses={201: OpportunitySerializer})
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        opportunity = services.opportunity_create(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=opportunity.pk), OpportunitySerializer)

    @extend_schema(responses={200: OpportunitySerializer})
    def update(self, request, pk=None, partial=False):
        opportunity = self.get_object()
        serializer = self.get_serializer(opportunity, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.opportunity_update(opportunity=opportunity, by=request.user, **serializer.validated_data)
        return self._opportunity(opportunity.pk)

    @extend_schema(responses={200: OpportunitySerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the deal to a stage; lacking the coach it requires: 409 `coach_required`, `requirement`, `missing`."""
        opportunity = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.opportunity_move(opportunity=opportunity, by=request.user, **serializer.validated_data)
        return self._opportunity(opportunity.pk)

    @extend_schema(methods=["GET"], request=None, responses={200: ContactRoleSerializer(many=True)})
    @extend_schema(methods=["POST"], request=ContactRoleSerializer, responses={201: ContactRoleSerializer})
    @action(detail=True, methods=["get", "post"], url_path="people", url_name="people", pagination_class=None)
    def people(self, request, pk=None):
        """The people involved in the deal and their roles; POST names one more (as on the deal page)."""
        opportunity = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            rows = selectors.opportunity_contact_roles(opportunity=opportunity, user=request.user)
            return Response(ContactRoleSerializer(rows, many=True, context=context).data)
        serializer = ContactRoleSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        role = services.opportunity_contact_add(opportunity=opportunity, by=request.user, **serializer.validated_data)
        return self.created(role, ContactRoleSerializer)

    @extend_schema(
        request=None, parameters=[OpenApiParameter("role_pk", int, OpenApiParameter.PATH)], responses={204: None}
    )
    @action(detail=True, methods=["delete"], url_path=r"people/(?P<role_pk>\d+)", url_name="people-remove")
    def people_remove(self, request, pk=None, role_pk=None):
        """Take a person's role off the deal."""
        opportunity = self.get_object()
        contact_role = access.get(
            request.user, OpportunityContact.objects.select_related("opportunity", "contact"), role_pk
        )
        if contact_role.opportunity_id != opportunity.pk:
            raise Http404
        services.opportunity_contact_remove(contact_role=contact_role, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        """Let the deal past the coach gate, with a reason (the owner's manager or an admin)."""
        opportunity = self.get_object()
        if request.user.is_rep:
            raise exceptions.PermissionDenied(_("Only the owner's manager or an admin can override the coach gate."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.opportunity_override(opportunity=opportunity, by=request.user, **serializer.validated_data)
        return self._opportunity(opportunity.pk)

    @extend_schema(responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a closed deal into an open stage, with a reason, through the gate (owner's manager or admin)."""
        opportunity = self.get_object()
        if not services.opportunity_may_reopen(opportunity=opportunity, by=request.user):
            raise exceptions.PermissionDenied(_("Only the owner's manager or an admin can reopen a closed deal."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.opportunity_reopen(opportunity=opportunity, by=request.user, **serializer.validated_data)
        return self._opportunity(opportunity.pk)

    @extend_schema(
        methods=["GET"],
        responses={200: dict},
        description="The buying committee as the deal page draws it: people (role, style, stance, holders, "
        "last touch, reports to), groups by role, reporting lines and gaps. Coach-sourced facts only for "
        "users who may see the coach.",
    )
    @extend_schema(methods=["POST"], request=CommitteeMemberSerializer, responses={200: dict})
    @action(detail=True, methods=["get", "post"])
    def committee(self, request, pk=None):
        """The committee (GET), or put a person on it / update him (POST, then the committee)."""
        opportunity = self.get_object()
        if request.method == "POST":
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.committee_member_set(opportunity=opportunity, by=request.user, **serializer.validated_data)
        return Response(selectors.opportunity_committee(opportunity=opportunity, user=request.user))


class AccountCommitteeView(CrmAPIView):
    """The account's buying committee as its page draws it: the people on its open deals' committees."""

    @extend_schema(
        responses={200: dict},
        description="The opportunity committee's data over the account's open deals the user may see (each "
        "person once, with all his roles and the deals he is on, `deals`), with the same gap rules. "
        "Coach-sourced facts only for users who may see the coach.",
    )
    def get(self, request, pk):
        account = access.get(request.user, Account, pk)
        return Response(selectors.account_committee(account=account, user=request.user))


class DashboardQuerySerializer(CrmSerializer):
    start = serializers.DateField(required=False, help_text="Default: the current quarter's first day.")
    end = serializers.DateField(required=False, help_text="Default: the current quarter's last day.")
    who = serializers.CharField(required=False, help_text="`user:<id>` or `team:<id>` (managers and admins).")
    region = serializers.IntegerField(required=False)
    product_line = serializers.IntegerField(required=False)


class GateSweepSerializer(CrmModelSerializer):
    class Meta:
        model = GateSweep
        fields = ["ran_at", "sent_back", "reasons"]


class GateSweepView(CrmAPIView):
    """The gate sweep's last run and the last run that sent deals back, as the *Needs a coach* page shows
    them to managers and admins (a rep: 403). Either is null before the first such run."""

    @extend_schema(responses={200: dict, 403: ErrorSerializer})
    def get(self, request):
        if request.user.is_rep:
            raise exceptions.PermissionDenied(_("The gate sweep's results are for managers and admins."))
        last = selectors.gate_sweep_last(user=request.user)
        sending = selectors.gate_sweep_last_sending(user=request.user)
        return Response(
            {
                "last": GateSweepSerializer(last).data if last else None,
                "last_sending": GateSweepSerializer(sending).data if sending else None,
            }
        )


class DashboardView(CrmAPIView):
    """The dashboard's figures, with the page's filters (the current quarter by default)."""

    @extend_schema(parameters=[DashboardQuerySerializer], responses={200: dict, 400: ErrorSerializer})
    def get(self, request):
        start, end = quarter_of(timezone.localdate())
        form = DashboardFilterForm(
            {"start": start.isoformat(), "end": end.isoformat(), **request.query_params.dict()}, user=request.user
        )
        if not form.is_valid():
            raise exceptions.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        summary = dashboard_summary(user=request.user, filters=form.filters())
        # Both forecasts and the method's inputs (rates, sample sizes), so a BI tool can reproduce them.
        summary["forecast"] = forecast_summary(user=request.user, filters=form.filters())
        return Response(summary)
