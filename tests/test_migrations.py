"""The migration history: a fresh database gets one line per app, and an install of 0.1.0 upgrades.

The merges of 0.1.0's parallel branches are squashed away (team 0005_departure_squashed,
accounts 0004_contact_past_buyer_squashed, coaches 0004_departure_squashed, each `replaces` one
branch and its merge). The replaced files stay, so an install that recorded the original names
keeps them, and one that is partway through a branch migrates through the originals.

The tests migrate the test database with `MigrationExecutor`, from nothing (every table
dropped: faster than unapplying every migration) or back from the leaves, and leave it at the
graph's leaves for the tests after them.
Data is written and read with the historical models of a fixed point of the history, so the
tests keep working when later migrations move or change the models.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_APPS = {"team", "accounts", "coaches", "pipeline", "service_catalog", "csvio"}
# The leaves of 0.1.0: what an install has applied today (later migrations build on these).
LEAVES_0_1_0 = [
    ("team", "0007_fill_territory_coverage"),
    ("accounts", "0006_assignment_facts_from_notes"),
    ("coaches", "0006_reason_facts_from_text"),
    ("pipeline", "0006_opportunity_newest_first"),
    ("service_catalog", "0004_grant_newest_first"),
    ("csvio", "0001_initial"),
]
MERGES = {
    ("team", "0005_merge_0004_departure_0004_territory"),
    ("accounts", "0004_merge_0003_account_territory_0003_contact_past_buyer"),
    ("coaches", "0004_merge_0002_departure_0003_default_playbook"),
}
SQUASHED = {
    ("team", "0005_departure_squashed"),
    ("accounts", "0004_contact_past_buyer_squashed"),
    ("coaches", "0004_departure_squashed"),
}
FILL = ("team", "0007_fill_territory_coverage")


def executor(*, replace_migrations: bool = True) -> MigrationExecutor:
    """A fresh executor (its graph reads what the database has applied now).

    `replace_migrations=False`: the graph of the original files, ignoring the squashed
    migrations: what an install of 0.1.0 migrated through.
    """
    migration_executor = MigrationExecutor(connection)
    if not replace_migrations:
        migration_executor.loader = MigrationLoader(connection, replace_migrations=False)
    return migration_executor


def third_party_leaves(graph) -> list[tuple[str, str]]:
    return [node for node in graph.leaf_nodes() if node[0] not in PROJECT_APPS]


def recorded() -> set[tuple[str, str]]:
    return set(MigrationRecorder(connection).applied_migrations())


def forget_squashes():
    """Unrecord the squashed migrations, as on an install of 0.1.0, which never had them.

    (`migrate` records a squash as applied once everything it replaces is, also with the graph
    of the original files.)
    """
    recorder = MigrationRecorder(connection)
    for app, name in SQUASHED:
        recorder.record_unapplied(app, name)
    assert not recorded() & SQUASHED


def branches_in(graph, plan) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Pairs of one app's planned migrations neither of which comes before the other: parallel branches.

    (A squash takes over the parents of what it replaces, so it may have two parents of its app,
    one the ancestor of the other: not a branch.)
    """
    branches = []
    for app in {key[0] for key in plan}:
        nodes = [key for key in plan if key[0] == app]
        for index, node in enumerate(nodes):
            before = set(graph.forwards_plan(node))
            branches += [(earlier, node) for earlier in nodes[:index] if earlier not in before]
    return branches


def empty_database():
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    # The SQLite schema editor turns the foreign key checks off for the drops.
    with connection.schema_editor() as editor:
        for table in tables:
            cascade = " CASCADE" if connection.vendor == "postgresql" else ""
            editor.execute(f"DROP TABLE {editor.quote_name(table)}{cascade}")
    assert connection.introspection.table_names() == []


def to_the_leaves():
    """Migrate to the graph's leaves, also the migrations added after 0.1.0's, which the tests do not go to."""
    ContentType.objects.clear_cache()
    try:
        executor().migrate(executor().loader.graph.leaf_nodes())
    except Exception:
        # A test that failed midway, in a state that does not migrate: start again from nothing.
        empty_database()
        executor().migrate(executor().loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


@pytest.fixture
def at_the_leaves(transactional_db):
    """The test database at the graph's leaves, and back there afterwards, whatever happened."""
    to_the_leaves()
    yield
    to_the_leaves()


@pytest.fixture
def empty(at_the_leaves):
    """The test database with no tables: nothing applied."""
    empty_database()


def test_an_empty_database_migrates_to_the_leaves_in_one_line_per_app(empty):
    fresh = executor()
    graph = fresh.loader.graph
    leaves = graph.leaf_nodes()
    plan = [(migration.app_label, migration.name) for migration, _ in fresh.migration_plan(leaves, clean_start=True)]
    planned = set(plan)

    assert not MERGES & set(graph.nodes), "the merges are replaced in the graph"
    assert branches_in(graph, plan) == []
    assert not [key for key in planned if "merge" in key[1]]
    assert planned >= SQUASHED | set(LEAVES_0_1_0)
    assert sorted(app for app, _name in leaves if app in PROJECT_APPS) == sorted(PROJECT_APPS), "one leaf per app"

    fresh.migrate(leaves)

    assert executor().migration_plan(leaves) == []
    # Django records a squashed migration together with the names it replaces, so that the
    # replaced files may be applied or removed later without the history disagreeing.
    assert recorded() >= planned | MERGES
    apps = executor().loader.project_state(LEAVES_0_1_0).apps
    assert apps.get_model("pipeline", "Stage").objects.filter(name="Won", is_won=True).exists()
    assert apps.get_model("coaches", "PlaybookCard").objects.count() == 5
    assert not apps.get_model("team", "TerritoryCoverage").objects.exists()


def add_territories(apps) -> dict[str, object]:
    """Accounts, territories and members as an install of 0.1.0 has them (before 0007 ran)."""
    User = apps.get_model("team", "User")
    Region = apps.get_model("accounts", "Region")
    Industry = apps.get_model("accounts", "Industry")
    ProductLine = apps.get_model("accounts", "ProductLine")
    Account = apps.get_model("accounts", "Account")
    Contact = apps.get_model("accounts", "Contact")
    Territory = apps.get_model("team", "Territory")

    alice, bob, carol, dave = (
        User.objects.create(username=name, role="rep") for name in ("alice", "bob", "carol", "dave")
    )
    north, east = (Region.objects.create(name=name) for name in ("North", "East"))
    banks, shops = (Industry.objects.create(name=name) for name in ("Banks", "Shops"))
    cloud, support = (ProductLine.objects.create(name=name) for name in ("Cloud", "Support"))

    def account(name, region, industry, size_tier, product_lines=()):
        created = Account.objects.create(
            name=name, normalized_name=name.lower(), region=region, industry=industry, size_tier=size_tier, owner=dave
        )
        created.product_lines.set(product_lines)
        return created

    north_bank = account("North Bank", north, banks, "key", [cloud])
    north_shop = account("North Shop", north, shops, "mid")
    east_bank = account("East Bank", east, banks, "key", [cloud, support])
    east_shop = account("East Shop", east, shops, "small", [support])
    Contact.objects.create(first_name="Petra", last_name="Past", past_buyer=True)

    def territory(name, order, members, **rule):
        created = Territory.objects.create(name=name, order=order, **rule)
        created.members.set(members)
        return created

    north_t = territory("North", 1, [alice, bob], region=north)
    key_cloud = territory("Key cloud", 2, [carol], size_tier="key", product_line=cloud)
    territory("Retired", 3, [dave], active=False)
    territory("Nobody", 4, [])
    shop_support = territory("Shop support", 5, [alice], industry=shops, product_line=support)
    Account.objects.filter(pk=north_bank.pk).update(territory=north_t)

    return {
        "users": {"alice": alice.pk, "bob": bob.pk, "carol": carol.pk},
        "coverage": {
            (alice.pk, north_t.pk, north_bank.pk),
            (bob.pk, north_t.pk, north_bank.pk),
            (alice.pk, north_t.pk, north_shop.pk),
            (bob.pk, north_t.pk, north_shop.pk),
            (carol.pk, key_cloud.pk, north_bank.pk),
            (carol.pk, key_cloud.pk, east_bank.pk),
            (alice.pk, shop_support.pk, east_shop.pk),
        },
        "north_bank": north_bank.pk,
        "north": north_t.pk,
    }


def test_an_install_of_0_1_0_upgrades_and_keeps_its_data(at_the_leaves):
    # An install of 0.1.0 from before the coverage fill, with territories: the original names
    # recorded (it migrated through the branches and their merges, the same operations as the
    # squashes), 0007 not applied.
    before_fill = [("team", "0006_territory_coverage")] + [key for key in LEAVES_0_1_0 if key != FILL]
    executor().migrate(before_fill)
    forget_squashes()
    assert recorded() >= MERGES | set(before_fill)
    assert FILL not in recorded()
    data = add_territories(executor().loader.project_state(before_fill).apps)

    upgrade = executor()
    assert not MERGES & set(upgrade.loader.graph.nodes)
    assert set(upgrade.loader.applied_migrations) >= SQUASHED, "counted applied: everything they replace is"
    plan = upgrade.migration_plan(LEAVES_0_1_0)
    assert [(migration.app_label, migration.name) for migration, _ in plan] == [FILL]
    upgrade.migrate(LEAVES_0_1_0)

    assert recorded() >= SQUASHED | MERGES | set(LEAVES_0_1_0)
    assert executor().migration_plan(LEAVES_0_1_0) == []
    apps = executor().loader.project_state(LEAVES_0_1_0).apps
    TerritoryCoverage = apps.get_model("team", "TerritoryCoverage")
    assert set(TerritoryCoverage.objects.values_list("user_id", "territory_id", "account_id")) == data["coverage"]
    Account = apps.get_model("accounts", "Account")
    assert Account.objects.count() == 4
    assert Account.objects.get(pk=data["north_bank"]).territory_id == data["north"]
    assert apps.get_model("accounts", "Contact").objects.get(last_name="Past").past_buyer
    Territory = apps.get_model("team", "Territory")
    assert set(Territory.objects.get(pk=data["north"]).members.values_list("pk", flat=True)) == {
        data["users"]["alice"],
        data["users"]["bob"],
    }

    # An install that had applied 0007 as well: nothing to run, the squashes get recorded.
    forget_squashes()
    again = executor()
    assert again.migration_plan(LEAVES_0_1_0) == []
    again.migrate(LEAVES_0_1_0)
    assert recorded() >= SQUASHED


def test_an_install_partway_through_the_branches_migrates_through_the_original_files(empty):
    # One branch of each merge applied, not the other: the squashes are partly applied, so Django
    # takes the original files, merges and all (the reason they stay in 0.1.x).
    old = executor(replace_migrations=False)
    old.migrate([("team", "0004_departure"), ("coaches", "0002_departure"), ("accounts", "0003_contact_past_buyer")])
    forget_squashes()

    upgrade = executor()
    graph = upgrade.loader.graph
    assert set(graph.nodes) >= MERGES
    assert not SQUASHED & set(graph.nodes)
    planned = [(migration.app_label, migration.name) for migration, _ in upgrade.migration_plan(LEAVES_0_1_0)]
    assert set(planned) >= MERGES | {("team", "0004_territory"), ("accounts", "0003_account_territory")}
    upgrade.migrate(LEAVES_0_1_0)

    assert executor().migration_plan(LEAVES_0_1_0) == []
    assert recorded() >= SQUASHED | MERGES, "the squashes count as applied from now on"
    apps = executor().loader.project_state(LEAVES_0_1_0).apps
    assert apps.get_model("coaches", "PlaybookCard").objects.count() == 5
    assert apps.get_model("accounts", "Contact")._meta.get_field("past_buyer")
