"""What the bulk variants of services (used by imports) share, and deleting many rows in batches."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model


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


def create_with_history(objs: list, model, *, default_user=None) -> list:
    """simple_history's bulk_create_with_history for new rows, with a lighter path on PostgreSQL.

    The same rows and the same history rows ("+", by `default_user`, no change reason), but on
    PostgreSQL each table is one `INSERT … SELECT * FROM UNNEST(arrays) RETURNING id`, each column's
    values prepared once (by the field's own get_db_prep_save) and reused for the history table,
    whose rows are never built as model instances: that per-value and per-instance work of the ORM
    was most of a 200,000-row import's time. Elsewhere, or for objects carrying history attributes
    (`_history_user`, `_change_reason`, `_history_date`) or without `default_user`, it is
    bulk_create_with_history itself.
    """
    history = model.history.model
    # The connection itself, not django.db.connection's proxy: each value's preparation reads it.
    connection = connections[router.db_for_write(model)]
    if (
        not objs
        or default_user is None
        or connection.vendor != "postgresql"
        or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
        or any(hasattr(obj, a) for obj in objs[:1] for a in ("_history_user", "_change_reason", "_history_date"))
    ):
        return bulk_create_with_history(objs, model, default_user=default_user)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = {}
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values = [field.pre_save(obj, True) for obj in objs]
        else:
            values = [getattr(obj, field.attname) for obj in objs]
        prepare = field.get_db_prep_save
        columns[field.attname] = [None if value is None else prepare(value, connection) for value in values]
    with transaction.atomic(savepoint=False):
        pks = _insert_unnest(connection, model, fields, columns, returning=model._meta.pk)
        for obj, pk in zip(objs, pks, strict=True):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias
        columns[model._meta.pk.attname] = pks
        count = len(objs)
        user_pk = default_user.pk if default_user is not None else None
        history_columns = {
            "history_date": [timezone.now()] * count,
            "history_change_reason": [None] * count,
            "history_type": ["+"] * count,
            "history_user_id": [user_pk] * count,
        }
        history_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        for field in history_fields:
            if field.attname not in history_columns:
                history_columns[field.attname] = columns[field.attname]
        _insert_unnest(connection, history, history_fields, history_columns, returning=None)
    return objs


def _insert_unnest(connection, model, fields, columns: dict, *, returning) -> list:
    quote = connection.ops.quote_name
    # The array types without their length (varchar[]), as Django's own UNNEST insert does.
    arrays = ", ".join(f"(%s)::{field.db_type(connection).split('(')[0]}[]" for field in fields)
    # Only the model's own table and column names are formatted in; every value is a parameter.
    table, names = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM UNNEST({arrays})"  # noqa: S608
    if returning is not None:
        sql += f" RETURNING {quote(returning.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [columns[field.attname] for field in fields])
        return [row[0] for row in cursor.fetchall()] if returning is not None else []


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
