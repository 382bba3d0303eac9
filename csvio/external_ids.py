# The ids imported records have in the CRM they came from: found in bulk, attached in bulk, worded.
"""External ids (csvio.ExternalId): the writes and lookups every importer shares.

The source system is the layout of the file (a HubSpot export gives HubSpot ids); a file in this
project's own columns gives ids of an "other" system. A (source, kind, id) names one record: a
second import of the same export finds it here and updates it, and a contacts or deals file
links to its accounts by their ids before their names. Lookups and inserts go in slices (SQLite's
parameter limit), a fixed number of queries per file however many rows.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from coachcrm.inputs import validate_single_line
from csvio.models import ExternalId

_CHUNK = 500
# Model label → kind: the records that may have external ids (each declares `external_ids`).
KINDS = {
    "accounts.account": ExternalId.Kind.ACCOUNT,
    "accounts.contact": ExternalId.Kind.CONTACT,
    "pipeline.opportunity": ExternalId.Kind.OPPORTUNITY,
}


def source_for_layout(layout: str) -> str:
    """The system a file's ids belong to, from the layout its headers matched."""
    for source in (ExternalId.Source.HUBSPOT, ExternalId.Source.SALESFORCE):
        if layout.startswith(f"{source}-"):
            return source
    return ExternalId.Source.OTHER


def kind_of(model: type[models.Model]) -> str:
    return KINDS[model._meta.label_lower]


def external_id_label(source: str, external_id: str) -> str:
    """`HubSpot 123`: how the dry run and the record page name an id."""
    return f"{ExternalId.Source(source).label} {external_id}"


def external_id_check(value: str) -> str:
    """A cell as an id: one line, at most the field's length; "" when empty.

    HubSpot writes several associated ids in one cell (`123;456`): the first is the record's.
    """
    value = value.strip().split(";")[0].strip()
    if not value:
        return ""
    field = ExternalId._meta.get_field("external_id")
    validate_single_line(value)
    if len(value) > field.max_length:
        raise ValidationError(
            _("An external id has at most %(max)s characters; this one has %(n)s.")
            % {"max": field.max_length, "n": len(value)}
        )
    return value


def external_ids_find(*, model: type[models.Model], source: str, ids) -> dict[str, int]:
    """{external id: record id} of the given ids of `model` known from `source`."""
    ids, found = sorted(set(ids) - {""}), {}
    rows = ExternalId.objects.filter(source=source, kind=kind_of(model)).order_by()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(rows.filter(external_id__in=chunk).values_list("external_id", "object_id"))
    return found


def external_ids_records(*, queryset: models.QuerySet, source: str, ids) -> tuple[dict, set[str]]:
    """{external id: record} of the given ids known from `source`, among `queryset` (the user's scope, with
    what the importer needs loaded); and the ids known but outside it (another team's records)."""
    known = external_ids_find(model=queryset.model, source=source, ids=ids)
    pks, records = sorted(set(known.values())), {}
    for start in range(0, len(pks), _CHUNK):
        records.update({record.pk: record for record in queryset.filter(pk__in=pks[start : start + _CHUNK])})
    found = {external_id: records[pk] for external_id, pk in known.items() if pk in records}
    return found, set(known) - set(found)


def external_ids_add(*, source: str, records: list[tuple[models.Model, str]]) -> list[ExternalId]:
    """Record the id each record has in `source`; an id already another record's refuses all.

    A record that already has that id keeps it (a second import changes nothing). Its one write
    is a bulk insert, atomic by itself: no savepoint of its own, which would cost two queries
    per import of a file without ids.
    """
    source = ExternalId.Source(source)
    wanted: dict[tuple[str, str], models.Model] = {}
    for record, external_id in records:
        external_id = external_id_check(external_id)
        if not external_id:
            continue
        key = (kind_of(type(record)), external_id)
        if key in wanted and wanted[key].pk != record.pk:
            raise ValidationError(
                {"external_id": _("%(id)s appears twice.") % {"id": external_id_label(source, external_id)}}
            )
        wanted[key] = record
    known: dict[tuple[str, str], int] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, external_id in wanted:
        by_kind.setdefault(kind, []).append(external_id)
    for kind, ids in by_kind.items():
        rows = ExternalId.objects.filter(source=source, kind=kind).order_by()
        for start in range(0, len(ids), _CHUNK):
            found = rows.filter(external_id__in=ids[start : start + _CHUNK]).values_list("external_id", "object_id")
            known.update({(kind, external_id): object_id for external_id, object_id in found})
    taken = sorted(key[1] for key, record in wanted.items() if key in known and known[key] != record.pk)
    if taken:
        raise ValidationError(
            {
                "external_id": _("These ids already belong to other records: %(ids)s.")
                % {"ids": ", ".join(external_id_label(source, external_id) for external_id in taken)}
            }
        )
    content_types = ContentType.objects.get_for_models(*{type(record) for record in wanted.values()})
    created = [
        ExternalId(
            source=source,
            kind=kind,
            external_id=external_id,
            content_type=content_types[type(record)],
            object_id=record.pk,
        )
        for (kind, external_id), record in wanted.items()
        if (kind, external_id) not in known
    ]
    # No batch size: PostgreSQL inserts them all in one statement, SQLite as many as its limit allows.
    return ExternalId.objects.bulk_create(created)
