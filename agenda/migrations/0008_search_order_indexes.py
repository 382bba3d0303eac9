# Indexes in the search's own orders, so that a common fragment stops after its eight rows (PostgreSQL only).
#
# "bor" matches 5% of the accounts and of the deals: the trigram indexes of 0002 return thousands
# of rows, every one read and sorted for a page of eight. With an index in the kind's order
# PostgreSQL walks it and stops at the eighth match (an admin's deals for "bor" 35-60 -> ~1 ms,
# his accounts ~5 -> 0.5 ms); a rare fragment still goes through the trigram index, as PostgreSQL
# estimates from the column's statistics (agenda.selectors.search keeps each condition plain for
# that). Nothing on SQLite, which scans with LIKE.
from django.db import migrations

INDEXES = [
    # agenda.selectors.search: accounts by ("name", "pk").
    ("search_account_by_name", "accounts_account", '"name", "id"'),
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
