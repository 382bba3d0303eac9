"""Fill TerritoryCoverage for the territories and accounts that exist.

What `coverage_refresh()` computed when this migration was written, for the models as they are
at this point of the history: every member of an active territory covers every account its rule
matches. A rule matches when each of its four conditions is empty ("any") or equals the
account's: region, industry, size tier, and one of the account's product lines.

Historical models and plain queries only: this must keep working after the models, the rule or
the services change or move, so it imports nothing from the project.
"""

from collections import defaultdict

from django.db import migrations

BATCH = 2000


def fill(apps, schema_editor):
    db = schema_editor.connection.alias
    Account = apps.get_model("accounts", "Account")
    Territory = apps.get_model("team", "Territory")
    TerritoryCoverage = apps.get_model("team", "TerritoryCoverage")
    AccountProductLine = Account.product_lines.through
    TerritoryMember = Territory.members.through

    # Derived data, rewritten whole (as when this migration runs again after going back).
    TerritoryCoverage.objects.using(db).all().delete()
    members = defaultdict(list)
    for territory_id, user_id in (
        TerritoryMember.objects.using(db)
        .filter(territory__active=True)
        .order_by("territory_id", "user_id")
        .values_list("territory_id", "user_id")
    ):
        members[territory_id].append(user_id)
    rows = []
    for territory in Territory.objects.using(db).filter(active=True).order_by("order", "pk"):
        if not members[territory.pk]:
            continue
        accounts = Account.objects.using(db).order_by("pk")
        if territory.region_id is not None:
            accounts = accounts.filter(region_id=territory.region_id)
        if territory.industry_id is not None:
            accounts = accounts.filter(industry_id=territory.industry_id)
        if territory.size_tier:
            accounts = accounts.filter(size_tier=territory.size_tier)
        if territory.product_line_id is not None:
            accounts = accounts.filter(
                pk__in=AccountProductLine.objects.using(db)
                .filter(productline_id=territory.product_line_id)
                .values("account_id")
            )
        # Read whole before writing: SQLite gives no isolation between one connection's queries.
        for account_id in list(accounts.values_list("pk", flat=True)):
            rows.extend(
                TerritoryCoverage(user_id=user_id, territory_id=territory.pk, account_id=account_id)
                for user_id in members[territory.pk]
            )
            if len(rows) >= BATCH:
                TerritoryCoverage.objects.using(db).bulk_create(rows)
                rows = []
    TerritoryCoverage.objects.using(db).bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0006_territory_coverage"),
        ("accounts", "0004_merge_0003_account_territory_0003_contact_past_buyer"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
