# Pages of an import: upload, report, confirm.
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

import access
from coachcrm.forms import add_service_error
from csvio import importers, selectors, services
from csvio.forms import ImportUploadForm
from csvio.models import ImportBatch


def _importer_class(kind):
    try:
        return importers.importer_class(kind)
    except ValidationError:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def import_create(request, kind):
    importer = _importer_class(kind)
    posted = request.method == "POST"
    form = ImportUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # One byte over the limit is enough for the service to refuse it.
            data = upload.read(settings.CSV_IMPORT_MAX_BYTES + 1)
            batch = services.import_batch_create(by=request.user, kind=kind, filename=upload.name, data=data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect("csvio:import-detail", pk=batch.pk)
    return render(request, "csvio/import_form.html", {"form": form, "importer": importer})


def import_detail(request, pk):
    batch = access.get(request.user, ImportBatch, pk)
    context = {
        "batch": batch,
        "importer": _importer_class(batch.kind),
        "report": batch.report,
        "rows": selectors.import_report_rows(batch=batch),
    }
    return render(request, "csvio/import_detail.html", context)


@require_POST
def import_confirm(request, pk):
    batch = access.get(request.user, ImportBatch, pk)
    try:
        batch = services.import_batch_confirm(batch=batch, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("csvio:import-detail", pk=batch.pk)
    if batch.status != batch.Status.IMPORTED:
        messages.error(request, _("Nothing was imported: the rows marked error must be fixed first."))
        return redirect("csvio:import-detail", pk=batch.pk)
    counts = batch.report["counts"]
    messages.success(
        request,
        _("Imported %(file)s: %(created)s created, %(updated)s updated, %(duplicate)s skipped as duplicates.")
        % {"file": batch.filename, **counts},
    )
    return redirect(_importer_class(batch.kind).list_url_name)
