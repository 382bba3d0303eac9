# An index in the search's order of deals, so that a common fragment stops after its eight rows (PostgreSQL only).
#
# "bor" matches 5% of the deals (through their accounts' names): the trigram indexes of 0002
# return thousands of rows, every one read and sorted for a page of eight. With an index in the
# search's order PostgreSQL walks it and stops at the eighth match (an admin's deals for "bor"
# 41-55 -> 1.3-1.6 ms); a rare fragment still goes through the trigram indexes, as PostgreSQL
# estimates each condition from its column's statistics (agenda.selectors.search keeps them plain
# for that). The accounts' order has its index in accounts.0013 (name, id). Nothing on SQLite,
# which scans with LIKE.
from django.db import migrations

INDEXES = [
    # Deals open first, newest first: the expression Django writes for the search's
    # Case(When(status="open", then=0), default=1), then ("-created_at", "pk").
    (
        "search_opportunity_order",
        "pipeline_opportunity",
        '(CASE WHEN "status" = \'open\' THEN 0 ELSE 1 END), "created_at" DESC, "id"',
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, columns in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _columns in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0007_task_due_event_on"),
        ("accounts", "0012_contact_name_index"),
        ("pipeline", "0015_stagechange_visit_facts"),
    ]

    operations = [migrations.RunPython(create, drop)]
