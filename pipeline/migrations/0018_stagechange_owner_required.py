# Every stage change has its deal's owner (0017), and the dashboard reads a team's moves by (owner, at),
# with the funnel's columns in the index (an index-only scan on PostgreSQL).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0017_stagechange_owner_fill"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="stagechange",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="owner",
            ),
        ),
        migrations.AddIndex(
            model_name="stagechange",
            index=models.Index(
                fields=["owner", "at"],
                include=(
                    "opportunity",
                    "from_stage",
                    "to_stage",
                    "kind",
                    "from_stage_entered_at",
                    "left_forward_at",
                    "left_back_at",
                ),
                name="stagechange_owner_at",
            ),
        ),
    ]
