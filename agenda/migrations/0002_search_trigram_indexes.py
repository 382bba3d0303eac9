# Trigram indexes for the global search on PostgreSQL (pg_trgm); nothing on SQLite, which scans with LIKE.
from django.db import migrations

# `icontains` is `UPPER(col::text) LIKE UPPER('%q%')` on PostgreSQL: the indexes are on that expression.
INDEXES = [
    ("search_account_name_trgm", "accounts_account", "name"),
    ("search_contact_first_trgm", "accounts_contact", "first_name"),
    ("search_contact_last_trgm", "accounts_contact", "last_name"),
    ("search_contact_email_trgm", "accounts_contact", "email"),
    ("search_contact_phone_trgm", "accounts_contact", "phone"),
    ("search_opportunity_name_trgm", "pipeline_opportunity", "name"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
