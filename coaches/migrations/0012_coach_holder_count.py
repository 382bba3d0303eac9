"""Keep each coach's number of holders on the coach (`Coach.holder_count`), filled for the coaches that exist.

What `coaches.services.holder_counts_refresh` computes: the coach's holder rows, counted. One
UPDATE with a correlated count, on the historical models, importing nothing from the project.
"""

from django.db import migrations, models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill(apps, schema_editor):
    db = schema_editor.connection.alias
    Coach = apps.get_model("coaches", "Coach")
    Holder = apps.get_model("coaches", "Holder")
    count = (
        Holder.objects.using(db)
        .filter(coach=OuterRef("pk"))
        .order_by()
        .values("coach")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Coach.objects.using(db).update(holder_count=Coalesce(Subquery(count, output_field=IntegerField()), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("coaches", "0011_model_plural_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="coach",
            name="holder_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="holders"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
