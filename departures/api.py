"""The departure API: handovers, and the depart action of the users resource."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

import access
from coachcrm.api import CrmModelSerializer, CrmSerializer, CrmViewSet
from coaches.models import Handover
from departures import selectors, services
from team.api import UserSerializer, UserViewSet
from team.models import User


class DepartSerializer(CrmSerializer):
    departure_date = serializers.DateField()


class UserDepartureViewSet(UserViewSet):
    """The users resource's depart action, beside the departure services.

    The same users, scope and filters as team's UserViewSet; coachcrm.api routes only
    `POST users/{id}/depart/` here, so the action kept its address and URL name (`api:user-depart`).
    """

    permission_classes = [IsAuthenticated]

    def _rep(self, refusal: str) -> User:
        """The user of the URL, whose departure the requester must be allowed to manage (else 403 saying who may)."""
        user = self.get_object()
        if not access.may_manage_departure(self.request.user, user):
            raise exceptions.PermissionDenied(refusal % {"name": user})
        return user

    @extend_schema(request=DepartSerializer, responses={202: UserSerializer})
    def depart(self, request, pk=None):
        """Start the rep's departure on a date (his manager or an admin); his coaches are flagged in the background."""
        user = self._rep(_("Only %(name)s's manager or an admin can start his departure."))
        serializer = DepartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_mark_leaving(user=user, by=request.user, **serializer.validated_data)
        return Response(UserSerializer(self.get_object()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: UserSerializer})
    def depart_cancel(self, request, pk=None):
        """Call off the rep's departure before its date: his open handovers are cancelled, its at-risk flags cleared."""
        user = self._rep(_("Only %(name)s's manager or an admin can cancel his departure."))
        services.user_departure_cancel(user=user, by=request.user)
        return Response(UserSerializer(self.get_object()).data)


class HandoverSerializer(CrmModelSerializer):
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


class HandoverReassignSerializer(CrmSerializer):
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
        # The service's rule (`_check_may_manage`), asked first so that a refusal is a 403, not a 400.
        if not access.may_manage_departure(request.user, handover.from_user):
            raise exceptions.PermissionDenied(_("Only the leaving rep's manager or an admin can reassign a handover."))
        serializer = HandoverReassignSerializer(data=request.data)
        # Only the people the page offers: active, staying users of the manager's team.
        serializer.fields["to_user"].queryset = selectors.successor_candidates(user=request.user)
        serializer.is_valid(raise_exception=True)
        services.handover_reassign(handover=handover, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=handover.pk)).data)
