"""0004_departure and the merge 0005_merge_0004_departure_0004_territory, squashed into one
migration after 0004_territory, so that team's history is one line.

A database that applied both replaced migrations counts this one as applied (and Django records
it on its next migrate); one that applied neither runs it. Keep the replaced files until every
install has passed 0.1.x: one that applied 0004_departure but not the merge still migrates
through them. Migrations that depend on the merge's name depend on this one instead (Django
rewires them when it builds the graph).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('team', '0004_departure'),
        ('team', '0005_merge_0004_departure_0004_territory'),
    ]

    dependencies = [
        ('team', '0004_territory'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='departure_flagged_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='at-risk coaches flagged'),
        ),
    ]
