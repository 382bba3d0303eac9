# REST API for catalog items and grants (/api/v1/).
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from access.api import ScopedModelSerializer, ScopedRelatedField
from accounts.models import Account, Contact
from coachcrm.api import (
    AdminOnly,
    AdminWritesOnly,
    CrmModelSerializer,
    CrmSerializer,
    CrmViewSet,
    ErrorSerializer,
    query_data,
)
from pipeline.models import Opportunity
from service_catalog import selectors, services
from service_catalog.filters import GrantFilter
from service_catalog.models import Authority, Grant, ServiceItem
from team.models import User


class ServiceItemSerializer(ScopedModelSerializer):
    grant_count = serializers.IntegerField(read_only=True, help_text="How often the item was granted.")

    class Meta:
        model = ServiceItem
        fields = ["id", "name", "category", "description", "unit_cost", "max_quantity", "active", "grant_count"]


class ServiceItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """The catalog: everyone reads, admins add and change items through the catalog services."""

    queryset = ServiceItem.objects.none()  # the model, for the schema; get_queryset() gives the rows
    serializer_class = ServiceItemSerializer
    permission_classes = [IsAuthenticated, AdminWritesOnly]
    filterset_fields = ["category", "active"]

    def get_queryset(self):
        return selectors.service_item_list()

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.service_item_create(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=item.pk))

    def update(self, request, pk=None, partial=False):
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.service_item_update(item=item, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=None, responses={200: ServiceItemSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Take the item out of the catalog; it stays in the ledger."""
        item = self.get_object()
        services.service_item_deactivate(item=item, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)


class OverLimitSerializer(CrmSerializer):
    authority = serializers.CharField(help_text="Whose authority the limit is.")
    limit = serializers.ChoiceField(choices=Authority.LIMIT_FIELDS)
    label = serializers.CharField(help_text="The limit in words, in the language of the request (Accept-Language).")
    total = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="What the grant would bring it to.")
    limit_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    over = serializers.DecimalField(max_digits=14, decimal_places=2)


class GrantSerializer(ScopedModelSerializer):
    item = serializers.PrimaryKeyRelatedField(queryset=ServiceItem.objects.all())
    account = ScopedRelatedField(queryset=Account.objects.all())
    recipient = ScopedRelatedField(queryset=Contact.objects.all())
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.none(), required=False, allow_null=True
    )
    over_limits = OverLimitSerializer(source="over_limits_display", many=True, read_only=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "item",
            "quantity",
            "unit_cost",
            "amount",
            "account",
            "recipient",
            "opportunity",
            "rep",
            "reason",
            "details",
            "status",
            "over_limits",
            "approver",
            "needs_admin",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
        ]
        # The price, the amount and the decision are the services' to set, never the caller's.
        read_only_fields = [
            "unit_cost",
            "amount",
            "rep",
            "status",
            "over_limits",
            "approver",
            "needs_admin",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
        ]


class GrantDecisionSerializer(CrmSerializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class GrantPreviewQuerySerializer(CrmSerializer):
    item = serializers.PrimaryKeyRelatedField(queryset=ServiceItem.objects.all())
    quantity = serializers.IntegerField(min_value=1)
    account = ScopedRelatedField(queryset=Account.objects.all())
    recipient = ScopedRelatedField(queryset=Contact.objects.all())


class GrantPreviewSerializer(CrmSerializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    within_authority = serializers.BooleanField(read_only=True, help_text="True: a request is approved at once.")
    exceeded = OverLimitSerializer(many=True, read_only=True, help_text="The limits the grant would exceed.")
    approver = serializers.IntegerField(
        source="approver.pk", read_only=True, allow_null=True, help_text="Who would decide: the user's manager."
    )
    approver_name = serializers.CharField(source="approver", read_only=True, allow_null=True)
    needs_admin = serializers.BooleanField(read_only=True, help_text="True: an admin would decide (no manager).")


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """The ledger the user may see; grants are requested, decided and cancelled through the grant services."""

    queryset = Grant.objects.none()  # the model, for the schema; get_queryset() scopes it
    filterset_class = GrantFilter

    def get_queryset(self):
        return selectors.grant_list(user=self.request.user).select_related("opportunity", "approver")

    def get_serializer_class(self):
        return GrantDecisionSerializer if self.action in ("approve", "reject") else GrantSerializer

    def _decidable(self) -> Grant:
        grant = self.get_object()
        if self.request.user.is_rep:
            raise exceptions.PermissionDenied(_("Only the rep's manager or an admin can decide a grant."))
        return grant

    def _grant(self, pk) -> Response:
        return Response(GrantSerializer(self.get_queryset().get(pk=pk), context=self.get_serializer_context()).data)

    def create(self, request):
        """Request a grant: `approved` at once within every limit, else `pending` for the manager."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.grant_request(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=grant.pk))

    @extend_schema(
        parameters=[GrantPreviewQuerySerializer], responses={200: GrantPreviewSerializer, 400: ErrorSerializer}
    )
    @action(detail=False, methods=["get"])
    def preview(self, request):
        """The grant form's approval preview: the amount, the limits it would exceed, who would decide."""
        query = GrantPreviewQuerySerializer(data=query_data(request), context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        item, quantity, _amount = services.grant_check(by=request.user, **query.validated_data)
        data = query.validated_data
        preview = selectors.grant_preview(
            by=request.user, item=item, quantity=quantity, account=data["account"], recipient=data["recipient"]
        )
        return Response(GrantPreviewSerializer({**preview, "within_authority": not preview["exceeded"]}).data)

    @extend_schema(responses={200: GrantSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a pending grant (over the approver's own authority it goes on to an admin)."""
        grant = self._decidable()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.grant_approve(grant=grant, by=request.user, **serializer.validated_data)
        return self._grant(grant.pk)

    @extend_schema(responses={200: GrantSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a pending grant with a note the rep sees."""
        grant = self._decidable()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.grant_reject(grant=grant, by=request.user, **serializer.validated_data)
        return self._grant(grant.pk)

    @extend_schema(request=None, responses={200: GrantSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw one's own pending grant."""
        grant = self.get_object()
        services.grant_cancel(grant=grant, by=request.user)
        return self._grant(grant.pk)


class AuthoritySerializer(CrmModelSerializer):
    role = serializers.ChoiceField(choices=User.Role.choices, required=False, allow_blank=True, default="")
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )

    class Meta:
        model = Authority
        fields = ["id", "role", "user", *Authority.LIMIT_FIELDS]
        extra_kwargs = {name: {"required": False} for name in Authority.LIMIT_FIELDS}


class AuthorityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """The authority matrix (admins only): a role's limits, or one user's replacing his role's row."""

    queryset = Authority.objects.none()  # the model, for the schema; get_queryset() gives the rows
    serializer_class = AuthoritySerializer
    permission_classes = [IsAuthenticated, AdminOnly]
    pagination_class = None

    def get_queryset(self):
        return Authority.objects.select_related("user").order_by("user__username", "role", "pk")

    @extend_schema(responses={201: AuthoritySerializer})
    def create(self, request):
        """Set a role's (`role`) or a user's (`user`) limits; an empty limit means no limit. Replaces the row."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        authority = services.authority_set(by=request.user, **serializer.validated_data)
        return self.created(authority)
