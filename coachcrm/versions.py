"""Data versions: a counter per table, bumped after every commit that wrote to it.

A report that is costly to compute (the manager's dashboard) is cached under the versions of
the tables it reads (`cached`), so that any write to them, by any entry point, makes the next
view compute it anew, and nothing else does (never time alone). The versions are rows in the
database (`TableVersion`), so every process, the Celery worker's included, and any cache
backend (the embedded default's per-process memory, Redis) agree on them.

How a write is seen: a database execute wrapper on every connection reads each statement's
verb and table (`INSERT INTO`, `UPDATE`, `DELETE FROM`: what the ORM sends for saves, deletes,
bulk and queryset writes, and raw SQL alike) and, after the transaction commits, bumps those
tables in one statement. Only tables a cached report reads are watched (`watch`, called by the
report's app in its `AppConfig.ready`, so in every process, the worker's too): the session's
update on each request, the outbox, the notices and an import's contacts bump nothing. A
rolled-back transaction bumps nothing. A report computed while a write commits is stored
under the versions read before it started, which the write's bump then leaves behind: the
next view recomputes. What the wrapper cannot see is a write by
another program (psql, a restore): `manage.py versions_bump` (or any later write to the table,
or the cache's timeout) clears that.
"""

import hashlib
import logging
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.utils import timezone, translation

from coachcrm.models import TableVersion

logger = logging.getLogger(__name__)

_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_OWN = TableVersion._meta.db_table
# The tables some cached report reads: only writes to them are bumped.
_watched: set[str] = set()


def watch(tables: Iterable[str]) -> None:
    """Bump these tables' versions from now on (a report that reads them is cached with `cached`)."""
    _watched.update(tables)


class _Bump:
    """The after-commit callback of one transaction: the tables it wrote, bumped at once."""

    def __init__(self, alias: str):
        self.alias, self.tables = alias, set()
        self.__qualname__ = "coachcrm.versions.bump"  # what Django names a failed callback by

    def __call__(self) -> None:
        bump(self.tables, using=self.alias)


def _watch(connection):
    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        match = _WRITE.match(sql)
        # Under manual transaction management (autocommit off outside `atomic`) there is no commit
        # to follow: nothing is bumped (Django itself never runs like that).
        if match and match.group(1) in _watched and (connection.in_atomic_block or connection.get_autocommit()):
            pending = next((f for _sids, f, _robust in connection.run_on_commit if isinstance(f, _Bump)), None)
            if pending is None:
                pending = _Bump(connection.alias)
                pending.tables.add(match.group(1))
                # robust: a failed bump must not turn a committed write into an error; the cache's
                # timeout bounds what it leaves stale.
                connection.on_commit(pending, robust=True)
            else:
                pending.tables.add(match.group(1))
        return result

    wrapper.versions_watch = True
    return wrapper


def install(sender, connection, **kwargs) -> None:
    """Watch a new connection's writes (connected to `connection_created` in CoachcrmConfig.ready)."""
    if connection.alias in connections and not any(
        getattr(w, "versions_watch", False) for w in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(_watch(connection))


def bump(tables: Iterable[str], *, using: str = "default") -> None:
    """Add one to each table's version (a first write creates its row at 1): one statement.

    Plain SQL, not the ORM's bulk upsert: it may run while the write that caused it still has a
    cursor open (an autocommit INSERT … RETURNING on SQLite), where a transaction of its own
    could not commit. The rows are locked in one order (sorted), so two bumps never deadlock.
    """
    tables = sorted(set(tables))
    if not tables:
        return
    rows = ", ".join(["(%s, 1)"] * len(tables))
    # Only placeholders and the model's own table name are spliced in; the names are parameters.
    sql = (
        f'INSERT INTO {_OWN} ("table", "version") VALUES {rows} '  # noqa: S608
        f'ON CONFLICT ("table") DO UPDATE SET "version" = {_OWN}."version" + 1'
    )
    try:
        with connections[using].cursor() as cursor:
            cursor.execute(sql, tables)
    except DatabaseError:
        # Before the migration that creates the versions' table (a new database being migrated):
        # there is no cached report yet to leave stale.
        if _OWN in connections[using].introspection.table_names():
            raise


def versions(tables: Iterable[str], *, using: str = "default") -> tuple[int, ...]:
    """The tables' versions now, in the order given (0 for a table never written): one query."""
    tables = list(tables)
    found = dict(TableVersion.objects.using(using).filter(table__in=tables).values_list("table", "version"))
    return tuple(found.get(t, 0) for t in tables)


def _key_part(value):
    return getattr(value, "pk", value)


def cached(name: str, *, tables: Iterable[str], params: dict, compute: Callable[[], object]):
    """`compute()`, or what it returned before under the same name, params, tables' versions, language and hour.

    `tables`: every table `compute` reads (a test holds each report's list to its queries),
    passed to `watch` at start-up.
    `params`: what the result depends on besides the data (the user, the filters; records by
    their ids). The hour is in the key because a report may measure ages from now. Without a
    cache (REPORT_CACHE_SECONDS 0), or while the cache is away, it computes every time.
    """
    seconds = settings.REPORT_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    tables = sorted(set(tables))
    parts = (
        name,
        sorted((k, _key_part(v)) for k, v in params.items()),
        versions(tables),
        translation.get_language(),
        timezone.localtime().strftime("%Y-%m-%dT%H"),
    )
    key = f"report:{name}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("report cache unavailable; %s computed", name, exc_info=True)
        return compute()
    if found is not None:
        return found
    value = compute()
    try:
        cache.set(key, value, seconds)
    except Exception:
        logger.warning("report cache unavailable; %s not stored", name, exc_info=True)
    return value
