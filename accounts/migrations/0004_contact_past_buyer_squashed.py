"""0003_contact_past_buyer and the merge 0004_merge_0003_account_territory_0003_contact_past_buyer,
squashed into one migration after 0003_account_territory, so that accounts' history is one line.

A database that applied both replaced migrations counts this one as applied (and Django records
it on its next migrate); one that applied neither runs it. Keep the replaced files until every
install has passed 0.1.x: one that applied 0003_contact_past_buyer but not the merge still
migrates through them. Migrations that depend on the merge's name (accounts 0005, team 0007,
pipeline 0006, service_catalog 0004) depend on this one instead: Django rewires them when it
builds the graph.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('accounts', '0003_contact_past_buyer'),
        ('accounts', '0004_merge_0003_account_territory_0003_contact_past_buyer'),
    ]

    dependencies = [
        ('accounts', '0003_account_territory'),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='past_buyer',
            field=models.BooleanField(default=False, verbose_name='past buyer'),
        ),
        migrations.AddField(
            model_name='historicalcontact',
            name='past_buyer',
            field=models.BooleanField(default=False, verbose_name='past buyer'),
        ),
    ]
