# One trigram index on a person's joined first name, last name, e-mail and phone (PostgreSQL only).
#
# The search matched the four columns with an OR of four ILIKEs, each with its own index; for a
# common fragment ("bor", ~5% of the people) PostgreSQL judged four bitmap scans dearer than
# reading all 100,000 contacts. `Contact.objects.matching` filters on the joined string
# (`accounts.models.PersonText`) instead: one condition, one index. Nothing on SQLite.
from django.db import migrations

NAME = "search_contact_person_trgm"
# The expression Django writes for `PersonText()` with `icontains`: UPPER((...)::text).
EXPRESSION = """UPPER(("first_name" || ' ' || "last_name" || ' ' || "email" || ' ' || "phone")::text)"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON accounts_contact USING gin (({EXPRESSION}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0004_model_plural_names"),
    ]

    operations = [migrations.RunPython(create, drop)]
