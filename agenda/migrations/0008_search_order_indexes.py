# Indexes in the search's own orders, so that a common fragment stops after its eight rows (PostgreSQL only).
#
# "bor" matches 5% of the accounts and of the deals (and 10% of the coaches): the trigram indexes
# of 0002 and 0005 return thousands of rows, every one read and sorted for a page of eight. With
# an index in the kind's order PostgreSQL walks it and stops at the eighth match (an admin's deals
# 48 -> 5 ms, his accounts 5 -> 0.7 ms); a rare fragment still goes through the trigram index.
# Nothing on SQLite, which scans with LIKE.
from django.db import migrations

INDEXES = [
    # agenda.selectors.search: accounts by ("name", "pk").
    ("search_account_by_name", "accounts_account", '"name", "id"'),
    # Coaches by ("status", "-established_on", "pk").
    ("search_coach_order", "coaches_coach", '"status", "established_on" DESC, "id"'),
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
        ("coaches", "0011_model_plural_names"),
        ("pipeline", "0015_stagechange_visit_facts"),
    ]

    operations = [migrations.RunPython(create, drop)]
