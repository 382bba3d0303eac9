"""What the bulk variants of services (used by imports) share, and deleting many rows in batches."""

import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Cast
from simple_history.utils import get_history_manager_for_model


class RowErrors(ValidationError):
    """A bulk service's refusal: `rows` maps the index of each refused row to its ValidationError."""

    def __init__(self, rows: dict[int, ValidationError]):
        super().__init__([message for error in rows.values() for message in error.messages])
        self.rows = rows


def delete_in_batches(queryset, *, batch: int = 2000) -> int:
    """Delete the queryset's rows a batch at a time (short transactions, bounded locks); returns how many."""
    deleted = 0
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:batch]):
        deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]
    return deleted


def bulk_update_by_value(objs: list, fields: list[str], *, batch_size: int | None = None) -> int:
    """`QuerySet.bulk_update` with one CASE branch per distinct value instead of one per row; returns rows updated.

    Django's bulk_update writes `CASE WHEN id = 1 THEN … WHEN id = 2 THEN …` for every field and
    row and resolves each branch in Python: ~1.5 ms a row and field, seconds for the 1,000
    coaches of a departure. A job's rows mostly share their values (every flagged coach gets
    the same flag, reason and time), so grouping them by value writes the same rows with a
    handful of branches (`WHEN id IN (…) THEN …`), and a field with one value for the whole
    batch as a plain `SET`. Same statements per batch as bulk_update.
    """
    objs = list(objs)
    if not objs:
        return 0
    model = type(objs[0])
    manager = model._default_manager
    cast = connections[manager.db].features.requires_casted_case_in_updates
    batch_size = batch_size or len(objs)
    updated = 0
    for start in range(0, len(objs), batch_size):
        batch = objs[start : start + batch_size]
        values = {}
        for name in fields:
            field = model._meta.get_field(name)
            groups: dict = {}
            for obj in batch:
                value = getattr(obj, field.attname)
                groups.setdefault(_value_key(value), (value, []))[1].append(obj.pk)
            if len(groups) == 1:
                values[field.attname] = next(iter(groups.values()))[0]
                continue
            case = Case(
                *(When(pk__in=pks, then=Value(value, output_field=field)) for value, pks in groups.values()),
                output_field=field,
            )
            values[field.attname] = Cast(case, output_field=field) if cast else case
        updated += manager.filter(pk__in=[obj.pk for obj in batch]).update(**values)
    return updated


def _value_key(value):
    """A hashable key under which equal field values group (JSON documents by their text)."""
    if isinstance(value, dict | list):
        return ("json", json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder))
    return (type(value).__name__, value)


def bulk_update_with_history(
    objs: list,
    model,
    fields: list[str],
    *,
    batch_size: int | None = None,
    default_user=None,
    default_change_reason=None,
) -> int:
    """simple_history's `bulk_update_with_history` (the rows, then a history row each), by `bulk_update_by_value`."""
    objs = list(objs)
    with transaction.atomic(savepoint=False):
        updated = bulk_update_by_value(objs, fields, batch_size=batch_size)
        get_history_manager_for_model(model).bulk_history_create(
            objs,
            batch_size=batch_size,
            update=True,
            default_user=default_user,
            default_change_reason=default_change_reason,
        )
    return updated
