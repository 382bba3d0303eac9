# Pages of an import: upload, mapping step and report, confirm, background progress and cancel.
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import access
from coachcrm.forms import add_service_error
from csvio import importers, layouts, selectors, services
from csvio.forms import ImportMappingForm, ImportUploadForm
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
    form = ImportUploadForm(request.POST if posted else None, request.FILES if posted else None, kind=kind)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # One byte over the limit is enough for the service to refuse it.
            data = upload.read(settings.CSV_IMPORT_MAX_BYTES + 1)
            batch = services.import_batch_create(
                by=request.user, kind=kind, filename=upload.name, data=data, mapping=form.cleaned_data.get("mapping")
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return redirect("csvio:import-detail", pk=batch.pk)
    layouts_of_kind = [layout for layout in layouts.LAYOUTS if layout.kind == kind]
    return render(request, "csvio/import_form.html", {"form": form, "importer": importer, "layouts": layouts_of_kind})


def _detail_context(request, batch, mapping_form=None):
    importer = _importer_class(batch.kind)
    if mapping_form is None and batch.status == ImportBatch.Status.PENDING:
        mapping_form = ImportMappingForm(
            batch=batch, importer=importer, samples=selectors.import_samples(batch=batch), user=request.user
        )
    layout = layouts.BY_KEY.get(batch.report.get("layout", ""))
    return {
        "batch": batch,
        "importer": importer,
        "report": batch.report,
        "rows": selectors.import_report_rows(batch=batch),
        "mapping_form": mapping_form,
        "layout": layout,
        "progress": selectors.import_batch_progress(batch=batch) if batch.status in services.BACKGROUND else None,
    }


def import_detail(request, pk):
    batch = access.get(request.user, ImportBatch, pk)
    return render(request, "csvio/import_detail.html", _detail_context(request, batch))


@require_POST
def import_map(request, pk):
    batch = access.get(request.user, ImportBatch, pk)
    form = ImportMappingForm(
        request.POST,
        batch=batch,
        importer=_importer_class(batch.kind),
        samples=selectors.import_samples(batch=batch),
        user=request.user,
    )
    if form.is_valid():
        try:
            services.import_batch_map(batch=batch, by=request.user, **form.mapping())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if form.cleaned_data["save_as"]:
                messages.success(request, _("Mapping %(name)s saved.") % {"name": form.cleaned_data["save_as"]})
            return redirect("csvio:import-detail", pk=batch.pk)
    return render(request, "csvio/import_detail.html", _detail_context(request, batch, form), status=200)


@require_POST
def import_confirm(request, pk):
    batch = access.get(request.user, ImportBatch, pk)
    try:
        batch = services.import_batch_confirm(batch=batch, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("csvio:import-detail", pk=batch.pk)
    batch.refresh_from_db()
    if batch.status == batch.Status.CONFIRMING:
        messages.info(
            request, _("Importing %(file)s in the background; you can leave this page.") % {"file": batch.filename}
        )
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


@require_GET
def import_progress(request, pk):
    """The progress bar, polled by htmx; once the job is done the page reloads to show the report."""
    batch = access.get(request.user, ImportBatch, pk)
    if batch.status not in services.BACKGROUND:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    context = {"batch": batch, "progress": selectors.import_batch_progress(batch=batch)}
    return render(request, "csvio/_import_progress.html", context)


@require_POST
def import_cancel(request, pk):
    batch = access.get(request.user, ImportBatch, pk)
    try:
        services.import_batch_cancel(batch=batch, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(request, _("Cancelling: the rows imported so far are rolled back, nothing is kept."))
    return redirect("csvio:import-detail", pk=batch.pk)
