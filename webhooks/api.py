# REST API for webhook endpoints and their delivery log (admins only, /api/v1/webhooks/).
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

import access
from coachcrm.api import AdminOnly, CrmModelSerializer, CrmViewSet
from webhooks import services
from webhooks.models import Delivery, Event, Webhook


class WebhookSerializer(CrmModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices),
        required=False,
        help_text="The events to send; empty: every event.",
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "description", "events", "active", "failing_since", "disabled_at", "created_at"]
        read_only_fields = ["failing_since", "disabled_at", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text='Shown only in this answer: keep it to check `X-CoachCRM-Signature` (see "Webhooks" in docs/api.md).',
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class DeliverySerializer(CrmModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "delivery_id",
            "event",
            "status",
            "attempts",
            "response_code",
            "duration_ms",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """Webhook endpoints (admins): events are POSTed to them signed with their secret."""

    queryset = Webhook.objects.none()  # the model, for the schema; get_queryset() gives the rows
    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated, AdminOnly]

    def get_queryset(self):
        return access.webhooks(self.request.user).order_by("pk")

    @extend_schema(responses={201: WebhookCreatedSerializer})
    def create(self, request):
        """Register an endpoint; the answer carries its secret, shown this once."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(by=request.user, **serializer.validated_data)
        return self.created(webhook, WebhookCreatedSerializer)

    def update(self, request, pk=None, partial=False):
        webhook = self.get_object()
        serializer = self.get_serializer(webhook, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.webhook_update(webhook=webhook, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(request=None, responses={200: WebhookCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the endpoint's secret; the answer carries the new one, shown this once."""
        webhook = services.webhook_rotate_secret(webhook=self.get_object(), by=request.user)
        return Response(WebhookCreatedSerializer(webhook).data)

    @extend_schema(request=None, responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first: status, last response code, duration, attempts."""
        webhook = self.get_object()
        page = self.paginate_queryset(webhook.deliveries.order_by("-created_at", "-pk"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("delivery_pk", int, OpenApiParameter.PATH)],
        responses={202: DeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_pk>\d+)/redeliver")
    def redeliver(self, request, pk=None, delivery_pk=None):
        """Send a delivery again, with the same delivery id (receivers drop what they already have)."""
        webhook = self.get_object()
        delivery = access.deliveries(request.user, webhook.deliveries.all()).filter(pk=delivery_pk).first()
        if delivery is None:
            raise Http404
        services.delivery_redeliver(delivery=delivery, by=request.user)
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=202)
