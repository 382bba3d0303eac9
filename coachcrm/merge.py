# The generic half of a merge of duplicates: every row of any app that points at a record, counted or moved.
"""What points at a record, found from the models' metadata rather than listed by hand.

A merge (accounts.services.account_merge, contact_merge, and the coach records they join) must
move *every* reference to the record that goes, including those of apps above the one that
merges — which it may not import. Django's model metadata knows them all: each foreign key of
any installed model whose target is the record's model. The apps whose rows could conflict
(a unique constraint, a coach rule) resolve that first, in their receivers of the merge signal;
what is left moves here, with a history row for the models that keep history.

Historical models (django-simple-history) are not references: they are snapshots of the past.
Generic references (a content type and an id, like csvio's external ids) have no foreign key to
find: the models that have them declare a `GenericRelation`, which is found and moved here too.
"""

from django.apps import apps
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from simple_history.exceptions import NotHistoricalModelError
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_update_with_history, get_history_manager_for_model

BATCH = 500


def references(model: type[models.Model], *, skip: tuple = ()) -> list[models.ForeignKey]:
    """The foreign keys (of any installed model, hidden related names included) that point at `model`.

    `skip`: (app_label.ModelName, field) pairs the caller handles itself (derived rows).
    """
    found = []
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        field = relation.field
        related = field.model
        if issubclass(related, HistoricalChanges) or related._meta.auto_created:
            continue
        if (related._meta.label, field.name) in skip:
            continue
        found.append(field)
    return sorted(found, key=lambda f: (f.model._meta.label, f.name))


def generic_references(model: type[models.Model]) -> list[GenericRelation]:
    """The generic relations `model` declares: rows that point at it by content type and id."""
    return [f for f in model._meta.private_fields if isinstance(f, GenericRelation)]


def _generic_rows(relation: GenericRelation, record: models.Model) -> models.QuerySet:
    content_type = ContentType.objects.get_for_model(type(record), for_concrete_model=relation.for_concrete_model)
    return relation.related_model._base_manager.filter(
        **{relation.content_type_field_name: content_type, relation.object_id_field_name: record.pk}
    )


def _generic_key(relation: GenericRelation) -> str:
    return f"{relation.related_model._meta.label}.{relation.object_id_field_name}"


def reference_counts(record: models.Model, *, skip: tuple = ()) -> list[dict]:
    """How many rows of each kind point at the record: one COUNT per reference, none per row."""
    counts = []
    for field in references(type(record), skip=skip):
        n = field.model._base_manager.filter(**{field.name: record.pk}).count()
        if n:
            counts.append({"label": _label(field, n), "count": n, "key": f"{field.model._meta.label}.{field.name}"})
    for relation in generic_references(type(record)):
        if n := _generic_rows(relation, record).count():
            key = _generic_key(relation)
            counts.append({"label": reference_label(key, n), "count": n, "key": key})
    return counts


def reference_label(key: str, n: int) -> str:
    """The words for `n` rows of a reference key ("pipeline.Opportunity.account" → "opportunities")."""
    label, _dot, name = key.rpartition(".")
    try:
        field = apps.get_model(label)._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):
        return key
    if not field.is_relation:
        # A generic reference's id column: the rows are named by their model alone.
        meta = field.model._meta
        return str(meta.verbose_name if n == 1 else meta.verbose_name_plural)
    return _label(field, n)


def _label(field: models.ForeignKey, n: int) -> str:
    meta = field.model._meta
    name = str(meta.verbose_name if n == 1 else meta.verbose_name_plural)
    # Two references from one model (a coach move's "from" and "to") are told apart by the field.
    siblings = [f for f in meta.get_fields() if getattr(f, "related_model", None) is field.related_model]
    return f"{name} ({field.verbose_name})" if len(siblings) > 1 else name


def _has_history(model) -> bool:
    try:
        get_history_manager_for_model(model)
    except NotHistoricalModelError:
        return False
    return True


def references_move(*, old: models.Model, new: models.Model, by=None, reason: str = "merge", skip: tuple = ()) -> dict:
    """Point every reference to `old` at `new`; {reference key: rows moved}.

    Models with history get a history row per moved row (who, and `reason`); the others one UPDATE.
    """
    moved = {}
    for field in references(type(old), skip=skip):
        model = field.model
        queryset = model._base_manager.filter(**{field.name: old.pk})
        if _has_history(model):
            rows = list(queryset)
            for row in rows:
                setattr(row, field.attname, new.pk)
            if rows:
                bulk_update_with_history(
                    rows, model, [field.name], batch_size=BATCH, default_user=by, default_change_reason=reason
                )
            n = len(rows)
        else:
            n = queryset.update(**{field.name: new.pk})
        if n:
            moved[f"{model._meta.label}.{field.name}"] = n
    # Before the caller deletes `old`: a generic relation deletes its rows with the record.
    for relation in generic_references(type(old)):
        if n := _generic_rows(relation, old).update(**{relation.object_id_field_name: new.pk}):
            moved[_generic_key(relation)] = n
    return moved
