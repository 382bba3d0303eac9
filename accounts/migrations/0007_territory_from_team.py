"""Territories move from the team app to accounts, in the migration state only: no table changes.

The models keep their tables (`team_territory`, `team_territory_members`, `team_territorycoverage`,
`team_historicalterritory`, `team_historicalterritory_members`: `db_table` and `table_name` on the
models), so the database has nothing to do and every row stays where it is. This migration adds the
models to accounts' state and points the account's `territory` at them; team 0008 then removes them
from team's state. Their content types follow them, so permissions and the admin's log keep theirs.
"""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

MODELS = ["territory", "territorycoverage", "historicalterritory", "historicalterritory_members"]


def content_types_move(apps, schema_editor, *, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        # Where both exist (post_migrate made the target already), the source is stale: leave it.
        if not ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def content_types_forwards(apps, schema_editor):
    content_types_move(apps, schema_editor, source="team", target="accounts")


def content_types_backwards(apps, schema_editor):
    content_types_move(apps, schema_editor, source="accounts", target="team")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_assignment_facts_from_notes"),
        ("team", "0007_fill_territory_coverage"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="HistoricalTerritory",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("name", models.CharField(db_index=True, max_length=120, verbose_name="name")),
                        ("order", models.PositiveIntegerField(db_index=True, verbose_name="precedence")),
                        (
                            "size_tier",
                            models.CharField(
                                blank=True,
                                choices=[("key", "Key account"), ("mid", "Mid-size"), ("small", "Small")],
                                max_length=8,
                                verbose_name="size tier",
                            ),
                        ),
                        ("active", models.BooleanField(default=True, verbose_name="active")),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "industry",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="accounts.industry",
                                verbose_name="industry",
                            ),
                        ),
                        (
                            "product_line",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="accounts.productline",
                                verbose_name="product line",
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="accounts.region",
                                verbose_name="region",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical territory",
                        "verbose_name_plural": "historical territories",
                        "db_table": "team_historicalterritory",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="Territory",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=120, unique=True, verbose_name="name")),
                        ("order", models.PositiveIntegerField(unique=True, verbose_name="precedence")),
                        (
                            "size_tier",
                            models.CharField(
                                blank=True,
                                choices=[("key", "Key account"), ("mid", "Mid-size"), ("small", "Small")],
                                max_length=8,
                                verbose_name="size tier",
                            ),
                        ),
                        ("active", models.BooleanField(default=True, verbose_name="active")),
                        (
                            "industry",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="territories",
                                to="accounts.industry",
                                verbose_name="industry",
                            ),
                        ),
                        (
                            "last_assigned",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "members",
                            models.ManyToManyField(
                                blank=True,
                                db_table="team_territory_members",
                                related_name="territories",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="members",
                            ),
                        ),
                        (
                            "product_line",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="territories",
                                to="accounts.productline",
                                verbose_name="product line",
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="territories",
                                to="accounts.region",
                                verbose_name="region",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "territory",
                        "verbose_name_plural": "territories",
                        "db_table": "team_territory",
                        "ordering": ["order", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="HistoricalTerritory_members",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                        (
                            "history",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                to="accounts.historicalterritory",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                db_tablespace="",
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "territory",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                db_tablespace="",
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="accounts.territory",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "HistoricalTerritory_members",
                        "db_table": "team_historicalterritory_members",
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.AlterField(
                    model_name="account",
                    name="territory",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="routed_accounts",
                        to="accounts.territory",
                        verbose_name="territory",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalaccount",
                    name="territory",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.territory",
                        verbose_name="territory",
                    ),
                ),
                migrations.CreateModel(
                    name="TerritoryCoverage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="coverage",
                                to="accounts.account",
                            ),
                        ),
                        (
                            "territory",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="coverage",
                                to="accounts.territory",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "team_territorycoverage",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "account", "territory"), name="territory_covers_once"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_forwards, content_types_backwards),
    ]
