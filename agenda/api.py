# REST API of the rep's day (/api/v1/): tasks, Today, logging a touch with its next step.
import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

import access
from access.api import ScopedModelSerializer, ScopedRelatedField
from accounts.models import Account, Contact
from agenda import selectors, services
from agenda.models import Task
from coachcrm.api import CrmAPIView, CrmModelSerializer, CrmSerializer, CrmViewSet, ErrorSerializer, query_data
from coachcrm.filters import CrmFilterSet
from coaches.models import Coach, Handover, Interaction
from pipeline.models import Opportunity
from team.models import User


class TaskFilter(CrmFilterSet):
    due = django_filters.DateFilter(
        method="filter_due", label="Open tasks due on or before this day (overdue included)"
    )
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Task
        fields = ["owner", "coach", "account", "opportunity", "handover"]

    def filter_due(self, queryset, name, value):
        return queryset.due_by(value)


# A time of day in the organisation's time zone, without an offset ("14:30:00"): OpenAPI's
# `format: time` (RFC 3339) requires one, so the schema says what the field really carries.
@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "14:30:00"})
class LocalTimeField(serializers.TimeField):
    pass


class TaskSerializer(ScopedModelSerializer):
    due_time = LocalTimeField(required=False, allow_null=True, help_text="Optional time of day (local).")
    owner = ScopedRelatedField(queryset=User.objects.all(), required=False, help_text="Default: you.")
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)
    coach = ScopedRelatedField(queryset=Coach.objects.all(), required=False, allow_null=True)
    account = ScopedRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    opportunity = ScopedRelatedField(queryset=Opportunity.objects.all(), required=False, allow_null=True)
    handover = ScopedRelatedField(queryset=Handover.objects.all(), required=False, allow_null=True)
    done = serializers.BooleanField(source="is_done", read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "subject",
            "due_on",
            "due_time",
            "owner",
            "created_by",
            "coach",
            "account",
            "opportunity",
            "handover",
            "kind",
            "contact",
            "done",
            "done_at",
            "created_at",
        ]
        # A style request (kind, the person it is about) is made by POST tasks/style-request/ only.
        read_only_fields = ["kind", "contact", "done_at", "created_at"]
        # Not DRF's validator for the one-open-style-request constraint (it would make coach and contact
        # required on every task): that rule is agenda.services.style_request's.
        validators = []
        extra_kwargs = {"due_on": {"required": False}}


class DoneSerializer(CrmSerializer):
    done = serializers.BooleanField(default=True)


class StyleRequestSerializer(CrmSerializer):
    coach = ScopedRelatedField(queryset=Coach.objects.all(), help_text="The coach to ask (one you may see).")
    contact = ScopedRelatedField(queryset=Contact.objects.all(), help_text="The person whose style is unknown.")
    opportunity = ScopedRelatedField(
        queryset=Opportunity.objects.all(), required=False, allow_null=True, help_text="The deal it is for."
    )


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Tasks the user may see (his own, those he gave, his team's as a manager), soonest due first."""

    queryset = Task.objects.none()  # the model, for the schema; get_queryset() scopes it
    filterset_class = TaskFilter

    def get_queryset(self):
        return selectors.task_rows(user=self.request.user).order_by("due_on", "due_time", "pk")

    def get_serializer_class(self):
        return {"done": DoneSerializer, "style_request": StyleRequestSerializer}.get(self.action, TaskSerializer)

    def _task(self, pk) -> Response:
        return Response(TaskSerializer(self.get_queryset().get(pk=pk), context=self.get_serializer_context()).data)

    @extend_schema(responses={201: TaskSerializer})
    def create(self, request):
        """Create a task for yourself or, as a manager, for one of your reps."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.task_create(by=request.user, **serializer.validated_data)
        return self.created(self.get_queryset().get(pk=task.pk))

    @extend_schema(responses={200: TaskSerializer})
    def update(self, request, pk=None, partial=False):
        task = self.get_object()
        serializer = self.get_serializer(task, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.task_update(task=task, by=request.user, **serializer.validated_data)
        return self._task(task.pk)

    @extend_schema(responses={200: TaskSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(responses={201: TaskSerializer, 200: TaskSerializer, 400: ErrorSerializer})
    @action(detail=False, methods=["post"], url_path="style-request")
    def style_request(self, request):
        """Ask a coach for a person's buying style: a task for the coach's holder (201), or the open one (200)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task, created = services.style_request(by=request.user, **serializer.validated_data)
        # The open request may be another asker's (not in your task list): it is about a coach and a
        # person you may see, so it is shown as it stands.
        data = TaskSerializer(task, context=self.get_serializer_context()).data
        return Response(data, status=201 if created else 200)

    @extend_schema(responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark the task done (`{"done": false}`: open again)."""
        task = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.task_set_done(task=task, by=request.user, **serializer.validated_data)
        return self._task(task.pk)


class TodayCoachSerializer(CrmModelSerializer):
    contact_name = serializers.CharField(source="contact.__str__")
    account_name = serializers.CharField(source="account.name")

    class Meta:
        model = Coach
        fields = [
            "id",
            "contact",
            "contact_name",
            "account",
            "account_name",
            "strength",
            "last_verified_on",
            "next_touch_due",
        ]


class TodayHandoverSerializer(CrmModelSerializer):
    class Meta:
        model = Handover
        fields = ["id", "coach", "from_user", "due_on"]


class TodayDealSerializer(CrmModelSerializer):
    account_name = serializers.CharField(source="account.name")

    class Meta:
        model = Opportunity
        fields = ["id", "name", "account", "account_name", "stage", "expected_close", "held_back"]


class TodayView(CrmAPIView):
    """The Today sections of the home page, in its order (at most 20 rows each; `more` says when there are more)."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        today = selectors.today(user=request.user)
        sections, context = today["sections"], {"request": request}
        return Response(
            {
                "day": today["day"],
                "tasks": TaskSerializer(sections["tasks"], many=True, context=context).data,
                "touches": TodayCoachSerializer(sections["touches"], many=True).data,
                "verify": TodayCoachSerializer(sections["verify"], many=True).data,
                "handovers": TodayHandoverSerializer(sections["handovers"], many=True).data,
                "held_back": TodayDealSerializer(sections["held_back"], many=True).data,
                "past_close": TodayDealSerializer(sections["past_close"], many=True).data,
                "more": today["more"],
            }
        )


class TouchSerializer(CrmSerializer):
    coach = ScopedRelatedField(queryset=Coach.objects.all())
    kind = serializers.ChoiceField(choices=Interaction.Kind.choices)
    occurred_on = serializers.DateField(default=timezone.localdate)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    next_step = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    next_step_on = serializers.DateField(required=False, allow_null=True, default=None)


class TouchView(CrmAPIView):
    """Log a touch with a coach and, optionally, the next step as a task (the short log form)."""

    @extend_schema(request=TouchSerializer, responses={201: dict, 400: ErrorSerializer})
    def post(self, request):
        serializer = TouchSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        interaction, task = services.touch_log(by=request.user, **serializer.validated_data)
        return Response(
            {
                "interaction": interaction.pk,
                "task": TaskSerializer(task, context={"request": request}).data if task else None,
            },
            status=201,
        )


class SearchQuerySerializer(CrmSerializer):
    q = serializers.CharField(help_text="At least two characters: name, e-mail, phone or account name.")


class SearchView(CrmAPIView):
    """Global search: accounts, contacts, coaches and opportunities you may see (8 of each at most)."""

    @extend_schema(parameters=[SearchQuerySerializer], responses={200: dict, 400: ErrorSerializer})
    def get(self, request):
        query = SearchQuerySerializer(data=query_data(request))
        query.is_valid(raise_exception=True)
        found = selectors.search(user=request.user, q=query.validated_data["q"])
        if found["too_short"]:
            raise exceptions.ValidationError(
                {"q": [_("Type at least %(n)s characters.") % {"n": selectors.SEARCH_MIN_LENGTH}]}
            )
        groups = found["groups"]
        return Response(
            {
                "q": found["q"],
                "accounts": [{"id": a.pk, "name": a.name} for a in groups["accounts"]],
                "contacts": [
                    {"id": c.pk, "name": str(c), "email": c.email, "phone": c.phone} for c in groups["contacts"]
                ],
                "coaches": [
                    {
                        "id": c.pk,
                        "contact": c.contact_id,
                        "contact_name": str(c.contact),
                        "account": c.account_id,
                        "account_name": c.account.name,
                        "status": c.status,
                    }
                    for c in groups["coaches"]
                ],
                "opportunities": [
                    {"id": o.pk, "name": o.name, "account": o.account_id, "account_name": o.account.name}
                    for o in groups["opportunities"]
                ],
            }
        )


TIMELINE_OF = {"account": Account, "contact": Contact, "opportunity": Opportunity}


class TimelineView(CrmAPIView):
    """The record's timeline, newest first (50 entries): touches with coaches you may see, stage changes,
    grants, tasks done, job changes and notes."""

    kind = ""  # "account", "contact" or "opportunity", set in the URLconf

    @extend_schema(responses={200: dict})
    def get(self, request, pk):
        record = access.get(request.user, TIMELINE_OF[self.kind], pk)
        entries = selectors.timeline(user=request.user, **{self.kind: record})
        return Response(
            {
                "results": [
                    {
                        "at": entry["at"],
                        "kind": entry["kind"],
                        "text": entry["text"],
                        "detail": entry["detail"],
                        "by": entry["by"].pk if entry["by"] else None,
                        "link": entry["link"],
                    }
                    for entry in entries
                ]
            }
        )


class NoteSerializer(CrmSerializer):
    account = ScopedRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    contact = ScopedRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    opportunity = ScopedRelatedField(queryset=Opportunity.objects.all(), required=False, allow_null=True)
    text = serializers.CharField(max_length=2000)

    def validate(self, attrs):
        if sum(attrs.get(name) is not None for name in ("account", "contact", "opportunity")) != 1:
            raise serializers.ValidationError(_("Give exactly one of account, contact, opportunity."))
        return attrs


class NoteView(CrmAPIView):
    """Add a note to an account, a person or a deal's timeline."""

    @extend_schema(request=NoteSerializer, responses={201: dict, 400: ErrorSerializer})
    def post(self, request):
        serializer = NoteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        note = services.note_add(by=request.user, **serializer.validated_data)
        return Response({"id": note.pk, "text": note.text, "created_at": note.created_at}, status=201)


class DigestSerializer(CrmSerializer):
    opt_out = serializers.BooleanField(help_text="True: the user gets no daily digest.")


class DigestView(CrmAPIView):
    """The user's own daily digest preference (the opt-out on the Tasks page)."""

    @extend_schema(responses={200: DigestSerializer})
    def get(self, request):
        return Response({"opt_out": selectors.digest_is_off(user=request.user)})

    @extend_schema(request=DigestSerializer, responses={200: DigestSerializer, 400: ErrorSerializer})
    def put(self, request):
        serializer = DigestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.digest_set_opt_out(user=request.user, opt_out=serializer.validated_data["opt_out"])
        return self.get(request)
