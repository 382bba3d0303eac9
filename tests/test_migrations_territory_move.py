"""The territories' move from team to accounts (accounts 0007, team 0008) keeps every row.

The database is taken back to the schema before the move, rows are written through team's
historical models there, and after migrating forward they are read through accounts' models.
The move is state-only, so going back and forth changes no table: it is quick on both databases.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import Account, Territory, TerritoryCoverage

BEFORE_THE_MOVE = [("team", "0007_fill_territory_coverage"), ("accounts", "0006_assignment_facts_from_notes")]


def migrate_back(targets):
    """Unapply what lies beyond `targets` and return the models as they are there.

    Like `MigrationExecutor.migrate(targets)`, but each migration is unapplied from the state
    its own dependencies leave (what `unapply` starts from): `migrate` first computes the state
    at every migration of the project, which takes seconds.
    """
    executor = MigrationExecutor(connection)
    for migration, _backwards in executor.migration_plan(targets):
        state = executor.loader.project_state((migration.app_label, migration.name), at_end=False)
        executor.unapply_migration(state, migration)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def migrate_forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_territories_written_before_the_move_are_read_after_it():
    content_type = ContentType.objects.get_for_model(Territory)
    old = migrate_back(BEFORE_THE_MOVE)
    assert old.get_model("team", "Territory")._meta.db_table == "team_territory"
    # The content type went back with the model.
    assert old.get_model("contenttypes", "ContentType").objects.get(pk=content_type.pk).app_label == "team"

    rep = old.get_model("team", "User").objects.create(username="rita", password="!", role="rep")
    north = old.get_model("accounts", "Region").objects.create(name="North")
    industry = old.get_model("accounts", "Industry").objects.create(name="Finance")
    territory = old.get_model("team", "Territory").objects.create(name="North", order=1, region=north, size_tier="")
    territory.members.add(rep)
    account = old.get_model("accounts", "Account").objects.create(
        name="Acme", normalized_name="acme", region=north, industry=industry, owner=rep, territory=territory
    )
    old.get_model("team", "TerritoryCoverage").objects.create(user=rep, territory=territory, account=account)
    record = old.get_model("team", "HistoricalTerritory").objects.create(
        id=territory.pk,
        name="North",
        order=1,
        region_id=north.pk,
        size_tier="",
        active=True,
        history_date=timezone.now(),
        history_type="+",
    )
    old.get_model("team", "HistoricalTerritory_members").objects.create(
        id=1, history=record, territory_id=territory.pk, user_id=rep.pk
    )

    migrate_forward()

    moved = Territory.objects.get(pk=territory.pk)
    assert (moved.name, moved.order, moved.region_id) == ("North", 1, north.pk)
    assert list(moved.members.values_list("pk", flat=True)) == [rep.pk]
    assert list(TerritoryCoverage.objects.values_list("user_id", "territory_id", "account_id")) == [
        (rep.pk, moved.pk, account.pk)
    ]
    assert Account.objects.get(pk=account.pk).territory == moved
    history = moved.history.get()
    assert (history.history_type, history.name) == ("+", "North")
    assert list(history.members.values_list("user_id", flat=True)) == [rep.pk]
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Territory).pk == content_type.pk
