# REST API for accounts, people and their positions, job changes and territories (/api/v1/).
import functools

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

import access
from access.api import ScopedModelSerializer, ScopedRelatedField
from accounts import selectors, services, territories
from accounts.filters import AccountFilter, ContactFilter
from accounts.models import Account, Contact, Employment, Industry, ProductLine, Region, Territory
from coachcrm.api import (
    AdminWritesOnly,
    CrmAPIView,
    CrmModelSerializer,
    CrmPagination,
    CrmSerializer,
    CrmViewSet,
    flatten_errors,
    request_user,
)
from coachcrm.pagination import BoundedPaginator
from csvio.api import ExternalIdSerializer
from csvio.filters import ExternalIdFilters
from team.models import User

EXTERNAL_IDS_HELP = "Its ids in the CRMs it was imported from (HubSpot, Salesforce…); written by imports only."


class AccountApiFilter(ExternalIdFilters, AccountFilter):
    pass


class ContactApiFilter(ExternalIdFilters, ContactFilter):
    pass


class AccountSerializer(ScopedModelSerializer):
    # Lookups by name, as on the page and in CSV files.
    region = serializers.SlugRelatedField(slug_field="name", queryset=Region.objects.all())
    industry = serializers.SlugRelatedField(slug_field="name", queryset=Industry.objects.all())
    product_lines = serializers.SlugRelatedField(
        slug_field="name", queryset=ProductLine.objects.all(), many=True, required=False
    )
    owner = ScopedRelatedField(queryset=User.objects.all(), required=False)
    reason = serializers.CharField(
        write_only=True, required=False, max_length=200, help_text="Why the owner changes (needed when it does)."
    )
    people_count = serializers.IntegerField(read_only=True, help_text="People currently working there.")
    external_ids = ExternalIdSerializer(many=True, read_only=True, help_text=EXTERNAL_IDS_HELP)
    assignment_note = serializers.CharField(
        source="assignment_note_display",
        read_only=True,
        help_text="Why the owner owns it, in the language of the request (Accept-Language).",
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "region",
            "industry",
            "size_tier",
            "product_lines",
            "owner",
            "reason",
            "assignment_note",
            "notes",
            "created_at",
            "people_count",
            "external_ids",
        ]

    def implied_values(self) -> dict:
        user = request_user(self)
        return {"owner": user.pk} if user is not None and user.is_rep else {}

    def get_fields(self):
        fields = super().get_fields()
        user = request_user(self)
        if user is not None and user.is_rep:
            # A rep does not choose the owner: the territories route his new accounts (another
            # `owner` than his own is refused as a read-only field).
            fields["owner"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class EmploymentSerializer(ScopedModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Employment
        fields = [
            "id",
            "account",
            "account_name",
            "title",
            "function",
            "seniority",
            "start_date",
            "end_date",
            "reports_to",
        ]
        read_only_fields = fields


class ReportsToSerializer(CrmSerializer):
    reports_to = ScopedRelatedField(
        queryset=Contact.objects.all(), allow_null=True, help_text="A colleague at the same account; null clears it."
    )


class PositionSerializer(CrmSerializer):
    """A position to record: the account must be one the user may see."""

    account = ScopedRelatedField(queryset=Account.objects.all())
    title = serializers.CharField(max_length=120)
    function = serializers.ChoiceField(choices=Employment.Function.choices, default=Employment.Function.OTHER)
    seniority = serializers.ChoiceField(choices=Employment.Seniority.choices, default=Employment.Seniority.STAFF)
    start_date = serializers.DateField()


class EmploymentCreateSerializer(PositionSerializer):
    end_date = serializers.DateField(required=False, allow_null=True, help_text="Empty for a current position.")


class EmploymentEndSerializer(CrmSerializer):
    end_date = serializers.DateField()


class ContactSerializer(ScopedModelSerializer):
    current_position = serializers.SerializerMethodField()
    employments = EmploymentSerializer(many=True, read_only=True, help_text="Every position held, newest first.")
    external_ids = ExternalIdSerializer(many=True, read_only=True, help_text=EXTERNAL_IDS_HELP)

    class Meta:
        model = Contact
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "notes",
            "created_at",
            "current_position",
            "employments",
            "external_ids",
        ]

    @extend_schema(responses=EmploymentSerializer(allow_null=True))
    def get_current_position(self, contact) -> dict | None:
        # From the prefetched timeline: no query per row.
        current = next((e for e in contact.employments.all() if e.end_date is None), None)
        return EmploymentSerializer(current).data if current else None


class ContactCreateSerializer(PositionSerializer, ContactSerializer):
    """A new person together with his current position."""

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "account", "title", "function", "seniority", "start_date"]


class ContactMoveSerializer(CrmSerializer):
    """A job change: the new company by account id or by name (an existing account wins), title and start."""

    account = ScopedRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    account_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=120)
    function = serializers.ChoiceField(choices=Employment.Function.choices, default=Employment.Function.OTHER)
    seniority = serializers.ChoiceField(choices=Employment.Seniority.choices, default=Employment.Seniority.STAFF)
    start_date = serializers.DateField()


class JobChangeSerializer(CrmSerializer):
    contact = serializers.IntegerField(required=False, allow_null=True, help_text="The person's id, or give `email`.")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, help_text="The new company's name.")
    title = serializers.CharField(max_length=120)
    start_date = serializers.DateField()

    def validate(self, data):
        if data.get("contact") is None and not data.get("email"):
            raise serializers.ValidationError(_("Give the person's `contact` id or `email`."))
        return data


class JobChangeBatchSerializer(CrmSerializer):
    changes = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=500)


class JobChangeResultSerializer(CrmSerializer):
    index = serializers.IntegerField(help_text="The change's position in the batch.")
    result = serializers.ChoiceField(choices=["applied", "already_applied", "refused"])
    contact = serializers.IntegerField(required=False)
    employment = serializers.IntegerField(required=False, help_text="The new (or already recorded) position.")
    reason = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


class MergeSerializer(CrmSerializer):
    """The record a duplicate merges into, by id (one the user sees)."""

    into = ScopedRelatedField(queryset=Account.objects.all())


class ContactMergeSerializer(CrmSerializer):
    into = ScopedRelatedField(queryset=Contact.objects.all())


class MergeMoveSerializer(CrmSerializer):
    key = serializers.CharField(help_text="app.Model.field of the rows that point at the record.")
    label = serializers.CharField(help_text="Those rows, in the language of the request.")
    count = serializers.IntegerField()


class MergePreviewSerializer(CrmSerializer):
    moves = MergeMoveSerializer(many=True)
    blocked = serializers.ListField(child=serializers.CharField(), help_text="Why the merge would be refused.")


class MergeActions:
    """`merge-preview` (GET ?into=) and `merge` (POST {"into": id}) of a viewset: the merge page's two steps."""

    merge_serializer = MergeSerializer

    def _merge_target(self, data):
        record = self.get_object()
        serializer = self.merge_serializer(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return record, serializer.validated_data["into"]

    def _merge_preview(self, request):
        record, into = self._merge_target(request.query_params)
        return Response(services.merge_preview(record=record, into=into, by=request.user))

    def _merge(self, request, merge):
        record, into = self._merge_target(request.data)
        if into.pk != record.pk and not access.may_merge(request.user, record, into):
            raise exceptions.PermissionDenied(_("Only an admin or the manager of both owners can merge these records."))
        merge(record, into=into, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=into.pk)).data)


class AccountViewSet(MergeActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Accounts the user may see; created and changed through the account services."""

    queryset = Account.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = AccountSerializer
    filterset_class = AccountApiFilter

    def get_queryset(self):
        return selectors.account_list(user=self.request.user).prefetch_related("product_lines", "external_ids")

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        data.pop("reason", None)
        account = services.account_create(by=request.user, **data)
        visible = self.get_queryset().filter(pk=account.pk).first()
        if visible is None:
            # Routed by a territory to someone whose accounts the creator may not see: created
            # all the same (like the page), and the answer says whose it is and why.
            account.people_count = 0
            visible = account
        return self.created(visible)

    def update(self, request, pk=None, partial=False):
        account = self.get_object()
        serializer = self.get_serializer(account, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.account_update(account=account, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(
        parameters=[OpenApiParameter("into", int, required=True, description="The account that would stay.")],
        responses={200: MergePreviewSerializer},
    )
    @action(detail=True, methods=["get"], url_path="merge-preview")
    def merge_preview(self, request, pk=None):
        """What a merge of this duplicate into `into` would move, and what would refuse it (nothing is written)."""
        return self._merge_preview(request)

    @extend_schema(request=MergeSerializer, responses={200: AccountSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this duplicate into `into`, which keeps everything of both; this account is deleted."""
        return self._merge(request, lambda record, **kw: services.account_merge(account=record, **kw))


class ContactViewSet(MergeActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Contacts the user may see, each with his employment timeline."""

    queryset = Contact.objects.none()  # the model, for the schema; get_queryset() scopes it
    filterset_class = ContactApiFilter

    def get_queryset(self):
        return selectors.contact_list_with_timeline(user=self.request.user).prefetch_related("external_ids")

    def get_serializer_class(self):
        if self.action == "create":
            return ContactCreateSerializer
        if self.action == "positions":
            return EmploymentCreateSerializer
        if self.action == "end_position":
            return EmploymentEndSerializer
        if self.action == "reports_to":
            return ReportsToSerializer
        if self.action == "move":
            return ContactMoveSerializer
        return ContactSerializer

    merge_serializer = ContactMergeSerializer

    @extend_schema(
        parameters=[OpenApiParameter("into", int, required=True, description="The person who would stay.")],
        responses={200: MergePreviewSerializer},
    )
    @action(detail=True, methods=["get"], url_path="merge-preview")
    def merge_preview(self, request, pk=None):
        """What a merge of this duplicate into `into` would move, and what would refuse it (nothing is written)."""
        return self._merge_preview(request)

    @extend_schema(request=ContactMergeSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this duplicate person into `into`, who keeps every position, coach record and role."""
        return self._merge(request, lambda record, **kw: services.contact_merge(contact=record, **kw))

    def _contact(self, pk) -> Response:
        return Response(ContactSerializer(self.get_queryset().get(pk=pk), context=self.get_serializer_context()).data)

    @extend_schema(responses={201: ContactSerializer})
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=contact.pk), ContactSerializer)

    def update(self, request, pk=None, partial=False):
        contact = self.get_object()
        serializer = self.get_serializer(contact, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.contact_update(contact=contact, by=request.user, **serializer.validated_data)
        return self._contact(contact.pk)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def _position(self, position_pk) -> tuple[Contact, Employment]:
        """The person of the URL and one of his positions (another's position is a 404)."""
        contact = self.get_object()
        employment = access.get(self.request.user, Employment.objects.select_related("contact", "account"), position_pk)
        if employment.contact_id != contact.pk:
            raise Http404
        return contact, employment

    @extend_schema(responses={201: ContactSerializer})
    @action(detail=True, methods=["post"])
    def positions(self, request, pk=None):
        """Add a position to the person's timeline (a second current one is refused)."""
        contact = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.employment_add(by=request.user, contact=contact, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=contact.pk), ContactSerializer)

    @extend_schema(
        parameters=[OpenApiParameter("position_pk", int, OpenApiParameter.PATH)],
        responses={200: ContactSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"positions/(?P<position_pk>\d+)/end")
    def end_position(self, request, pk=None, position_pk=None):
        """Close one of the person's positions on a date."""
        contact, employment = self._position(position_pk)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.employment_end(employment=employment, by=request.user, **serializer.validated_data)
        return self._contact(contact.pk)

    @extend_schema(
        parameters=[OpenApiParameter("position_pk", int, OpenApiParameter.PATH)],
        responses={200: ContactSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"positions/(?P<position_pk>\d+)/reports-to")
    def reports_to(self, request, pk=None, position_pk=None):
        """Record whom the person reports to in a current position (null: unknown)."""
        contact, employment = self._position(position_pk)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.employment_set_reports_to(employment=employment, by=request.user, **serializer.validated_data)
        return self._contact(contact.pk)

    @extend_schema(responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """The person changes companies: his current position ends the day before the new one starts."""
        contact = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.contact_move(
            contact=contact,
            by=request.user,
            new_account=data.pop("account", None),
            new_account_name=data.pop("account_name"),
            **data,
        )
        return self._contact(contact.pk)


class JobChangeView(CrmAPIView):
    """A batch of job changes from an enrichment tool, each applied (or refused) on its own."""

    @extend_schema(
        request=inline_serializer("JobChangeBatch", {"changes": JobChangeSerializer(many=True)}),
        responses={200: inline_serializer("JobChangeResults", {"results": JobChangeResultSerializer(many=True)})},
    )
    def post(self, request):
        batch = JobChangeBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        changes, results = [], {}
        for index, raw in enumerate(batch.validated_data["changes"]):
            # A malformed item is refused on its own, like one the service refuses.
            item = JobChangeSerializer(data=raw)
            if item.is_valid():
                changes.append((index, item.validated_data))
            else:
                results[index] = {
                    "index": index,
                    "result": "refused",
                    "reason": " ".join(flatten_errors(item.errors)),
                    "code": "invalid",
                }
        applied = services.job_changes_apply(by=request.user, changes=[change for _i, change in changes])
        for (index, _change), result in zip(changes, applied, strict=True):
            results[index] = {**result, "index": index}
        return Response({"results": [results[i] for i in sorted(results)]})


class TerritorySerializer(CrmModelSerializer):
    members = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    product_line = serializers.PrimaryKeyRelatedField(
        queryset=ProductLine.objects.all(), required=False, allow_null=True
    )
    industry = serializers.PrimaryKeyRelatedField(queryset=Industry.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Territory
        fields = ["id", "name", "order", "active", "region", "product_line", "size_tier", "industry", "members"]
        # Precedence changes with the page's up/down (territory_move); deactivation has its own service.
        read_only_fields = ["order", "active"]


class TerritoryMoveSerializer(CrmSerializer):
    up = serializers.BooleanField(help_text="`true` moves it one place up (higher precedence), `false` down.")


class TerritoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Territories in precedence order: everyone reads, admins add and change them."""

    queryset = Territory.objects.none()  # the model, for the schema; get_queryset() gives the rows
    serializer_class = TerritorySerializer
    permission_classes = [IsAuthenticated, AdminWritesOnly]
    filterset_fields = ["active", "region", "product_line"]

    def get_queryset(self):
        return selectors.territory_list()

    @extend_schema(request=None, responses={200: TerritorySerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Stop the territory routing accounts and widening visibility (it stays, with its history)."""
        territory = self.get_object()
        territories.territory_deactivate(territory=territory, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=territory.pk)).data)

    @extend_schema(request=TerritoryMoveSerializer, responses={200: TerritorySerializer(many=True)})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Swap the territory's precedence with its neighbour above (`up: true`) or below; answers the new order."""
        territory = self.get_object()
        serializer = TerritoryMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        territories.territory_move(territory=territory, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        territory = territories.territory_create(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=territory.pk))

    def update(self, request, pk=None, partial=False):
        territory = self.get_object()
        serializer = self.get_serializer(territory, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        territories.territory_update(territory=territory, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)


# --- possible duplicates ------------------------------------------------------------------------

DUPLICATE_KINDS = list(selectors.DUPLICATE_MATCHES)
DUPLICATE_MATCH_NAMES = sorted({match for matches in selectors.DUPLICATE_MATCHES.values() for match in matches})


class DuplicateRecordSerializer(CrmSerializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="__str__")


class DuplicatePairSerializer(CrmSerializer):
    match = serializers.CharField(help_text="Why the two may be one: name, email or phone.")
    key = serializers.CharField(help_text="The value both have (normalised).")
    first = DuplicateRecordSerializer(help_text="The oldest record of the key: the one proposed to stay.")
    second = DuplicateRecordSerializer(help_text="The possible duplicate, to merge into `first`.")


class NotDuplicateSerializer(CrmSerializer):
    first = DuplicateRecordSerializer()
    second = DuplicateRecordSerializer()
    by = serializers.CharField(source="by.__str__", default=None)
    dismissed_at = serializers.DateTimeField()


class DuplicateQuerySerializer(CrmSerializer):
    kind = serializers.ChoiceField(choices=DUPLICATE_KINDS, default="account")
    match = serializers.ChoiceField(
        choices=DUPLICATE_MATCH_NAMES, required=False, help_text="Accounts: name; contacts: email, phone or name."
    )
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)
    count = serializers.CharField(required=False)

    def validate(self, attrs):
        matches = selectors.DUPLICATE_MATCHES[attrs["kind"]]
        attrs.setdefault("match", next(iter(matches)))
        if attrs["match"] not in matches:
            raise serializers.ValidationError(
                {"match": _("Pick one of: %(matches)s.") % {"matches": ", ".join(matches)}}
            )
        return attrs


class DuplicatePairInputSerializer(CrmSerializer):
    """Two records of the list, by id: both must be ones the user may merge (else 404)."""

    kind = serializers.ChoiceField(choices=DUPLICATE_KINDS)
    first = serializers.IntegerField(min_value=1)
    second = serializers.IntegerField(min_value=1)


class DuplicatePagination(CrmPagination):
    # Counted up to COUNT_LIMIT like the page (`count` says 1,001 past it; ?count=exact counts them all).
    django_paginator_class = BoundedPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = functools.partial(BoundedPaginator, exact=request.GET.get("count") == "exact")
        return super().paginate_queryset(queryset, request, view)


class DuplicateViewSet(CrmViewSet):
    """The possible-duplicates list of admins and managers (reps: 403), and its "not a duplicate" answers."""

    queryset = Account.objects.none()  # for the schema: the rows are pairs of accounts or of people
    serializer_class = DuplicatePairSerializer
    pagination_class = DuplicatePagination

    def _refuse_reps(self):
        if self.request.user.is_rep:
            raise exceptions.PermissionDenied(_("The possible duplicates are for managers and admins."))

    def _query(self):
        query = DuplicateQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data["kind"], query.validated_data["match"]

    @extend_schema(parameters=[DuplicateQuerySerializer])
    def list(self, request):
        self._refuse_reps()
        kind, match = self._query()
        rows = self.paginate_queryset(selectors.duplicate_pairs(user=request.user, kind=kind, match=match))
        pairs = selectors.duplicate_pairs_resolve(rows=rows, kind=kind, match=match)
        return self.get_paginated_response(DuplicatePairSerializer(pairs, many=True).data)

    @extend_schema(parameters=[DuplicateQuerySerializer], responses=NotDuplicateSerializer(many=True))
    @action(detail=False, methods=["get"])
    def dismissed(self, request):
        """The pairs said not to be duplicates, newest first (undo one with `restore`)."""
        self._refuse_reps()
        kind, _match = self._query()
        page = self.paginate_queryset(selectors.duplicates_dismissed(user=request.user, kind=kind))
        return self.get_paginated_response(NotDuplicateSerializer(page, many=True).data)

    def _pair(self, request):
        self._refuse_reps()
        serializer = DuplicatePairInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = Account if data["kind"] == "account" else Contact
        first = access.get(request.user, model, data["first"])
        second = access.get(request.user, model, data["second"])
        # Seen is not enough: the pair is the user's only if he may merge it, as on the page.
        if not access.may_merge(request.user, first, second):
            raise Http404
        return first, second

    @extend_schema(request=DuplicatePairInputSerializer, responses={201: NotDuplicateSerializer})
    @action(detail=False, methods=["post"])
    def dismiss(self, request):
        """Say two records are not duplicates: the list stops showing the pair (a second call changes nothing)."""
        first, second = self._pair(request)
        dismissal = services.duplicate_dismiss(first=first, second=second, by=request.user)
        return Response(NotDuplicateSerializer(dismissal).data, status=201)

    @extend_schema(request=DuplicatePairInputSerializer, responses={204: None})
    @action(detail=False, methods=["post"])
    def restore(self, request):
        """Undo `dismiss`: the pair is listed again (a second call changes nothing)."""
        first, second = self._pair(request)
        services.duplicate_restore(first=first, second=second, by=request.user)
        return Response(status=204)
