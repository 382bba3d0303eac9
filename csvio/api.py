# REST API of the import pages (/api/v1/imports/): upload and dry run, mapping, confirm, progress, cancel.
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

import access
from coachcrm.api import CrmModelSerializer, CrmSerializer, CrmViewSet
from csvio import importers, selectors, services
from csvio.models import ExternalId, ImportBatch, ImportMapping


class ExternalIdSerializer(CrmModelSerializer):
    """A record's id in the CRM it was imported from; read-only (imports write them)."""

    class Meta:
        model = ExternalId
        fields = ["source", "external_id"]
        read_only_fields = fields


class ImportBatchSerializer(CrmModelSerializer):
    progress = serializers.SerializerMethodField(help_text="Rows done, total and percent while a job works on it.")

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "kind",
            "filename",
            "status",
            "row_count",
            "columns",
            "defaults",
            "values",
            "report",
            "progress",
            "created_at",
            "imported_at",
        ]
        read_only_fields = fields

    def get_progress(self, batch) -> dict | None:
        if batch.status not in services.BACKGROUND:
            return None
        return selectors.import_batch_progress(batch=batch)


class ImportUploadSerializer(CrmSerializer):
    """A file to import: `file` (multipart) or its text in `content` (JSON), checked at once (the dry run)."""

    # Text, not an enum: the schema's enum of "kind" is the interactions' (one name, one enum).
    kind = serializers.CharField(max_length=32, help_text="accounts, contacts, coaches or deals.")
    file = serializers.FileField(required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)
    filename = serializers.CharField(required=False, max_length=200, default="upload.csv")
    mapping = serializers.SlugRelatedField(
        slug_field="name", queryset=ImportMapping.objects.all(), required=False, help_text="A saved mapping's name."
    )

    def validate_kind(self, kind):
        try:
            importers.importer_class(kind)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return kind

    def validate(self, data):
        if ("file" in data) == ("content" in data):
            raise serializers.ValidationError({"file": _("Send the file, or its text in content (one of the two).")})
        return data


class ImportMappingSerializer(CrmSerializer):
    """The mapping step: file column → CoachCRM column ("" ignores it), defaults, list values; `save_as` a name."""

    columns = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    defaults = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    values = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)), default=dict
    )
    save_as = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ImportProgressSerializer(CrmSerializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    status = serializers.CharField()


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CrmViewSet):
    """The user's own uploads (nobody else's, admins included), each with its dry-run report."""

    queryset = ImportBatch.objects.none()  # the model, for the schema; get_queryset() scopes it
    serializer_class = ImportBatchSerializer

    def get_queryset(self):
        return access.import_batches(self.request.user).defer("content")

    def get_serializer_class(self):
        if self.action == "create":
            return ImportUploadSerializer
        if self.action == "mapping":
            return ImportMappingSerializer
        return ImportBatchSerializer

    def _batch(self, batch, code=status.HTTP_200_OK) -> Response:
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(ImportBatchSerializer(batch, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=ImportUploadSerializer, responses={201: ImportBatchSerializer})
    def create(self, request):
        """Upload a file: it is kept for you and dry-run (a large file in the background: `status` checking)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "file" in data:
            upload = data["file"]
            content, filename = upload.read(settings.CSV_IMPORT_MAX_BYTES + 1), upload.name
        else:
            content, filename = data["content"].encode("utf-8"), data["filename"]
        batch = services.import_batch_create(
            by=request.user, kind=data["kind"], filename=filename, data=content, mapping=data.get("mapping")
        )
        return self._batch(batch, status.HTTP_201_CREATED)

    @extend_schema(request=ImportMappingSerializer, responses={200: ImportBatchSerializer})
    @action(detail=True, methods=["put"])
    def mapping(self, request, pk=None):
        """Change the column and value mapping of a pending file; it is dry-run again."""
        batch = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._batch(services.import_batch_map(batch=batch, by=request.user, **serializer.validated_data))

    @extend_schema(request=None, responses={200: ImportBatchSerializer, 202: ImportBatchSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Import every row or none: 200 `imported` (or `pending` with the refused rows in `report`), 202 for a
        large file handed to a background job (follow `progress/`)."""
        batch = services.import_batch_confirm(batch=self.get_object(), by=request.user)
        code = status.HTTP_202_ACCEPTED if batch.status == ImportBatch.Status.CONFIRMING else status.HTTP_200_OK
        return self._batch(batch, code)

    @extend_schema(responses={200: ImportProgressSerializer})
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        """Rows done of the background dry run or confirmation (`status` says when it is over)."""
        batch = self.get_object()
        return Response({**selectors.import_batch_progress(batch=batch), "status": batch.status})

    @extend_schema(request=None, responses={200: ImportBatchSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop the background job: everything it wrote rolls back; the file waits to be confirmed again."""
        batch = self.get_object()
        services.import_batch_cancel(batch=batch, by=request.user)
        return self._batch(batch)
