"""Territories moved to accounts (accounts 0007): remove them from team's state. No table changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0007_fill_territory_coverage"),
        ("accounts", "0007_territory_from_team"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Whatever points at a model goes before it: the coverage and the members' history
            # at the territory, the territory's history rows at the historical territory.
            state_operations=[
                migrations.DeleteModel(name="TerritoryCoverage"),
                migrations.DeleteModel(name="HistoricalTerritory_members"),
                migrations.DeleteModel(name="HistoricalTerritory"),
                migrations.DeleteModel(name="Territory"),
            ],
            database_operations=[],
        ),
    ]
