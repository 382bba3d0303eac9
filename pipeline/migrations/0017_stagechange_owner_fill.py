# Each stage change takes its deal's owner: one set-based UPDATE (520,000 moves: see bench/README.md,
# "Round 2, fourth pass"; VACUUM ANALYZE pipeline_stagechange afterwards on a large database).

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    StageChange = apps.get_model("pipeline", "StageChange")
    Opportunity = apps.get_model("pipeline", "Opportunity")
    if schema_editor.connection.vendor == "postgresql":
        # A join, not a subquery per row.
        moves, deals = StageChange._meta.db_table, Opportunity._meta.db_table
        schema_editor.execute(
            f"UPDATE {moves} AS s SET owner_id = o.owner_id FROM {deals} AS o "  # noqa: S608 (the models' tables)
            "WHERE o.id = s.opportunity_id AND s.owner_id IS DISTINCT FROM o.owner_id"
        )
        return
    owner = Opportunity.objects.filter(pk=OuterRef("opportunity_id")).values("owner_id")[:1]
    StageChange.objects.update(owner_id=Subquery(owner))


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0016_stagechange_owner"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
