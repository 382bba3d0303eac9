"""The kept visible accounts (coaches.VisibleAccount), filled with what `coaches.visibility.visible_refresh()`
computed when this migration was written, for the models as they are at this point."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    User = apps.get_model("team", "User")
    Account = apps.get_model("accounts", "Account")
    Holder = apps.get_model("coaches", "Holder")
    TerritoryCoverage = apps.get_model("accounts", "TerritoryCoverage")
    VisibleAccount = apps.get_model("coaches", "VisibleAccount")
    users = {pk: (role, manager) for pk, role, manager in User.objects.values_list("pk", "role", "manager_id")}
    sources = [
        Account.objects.order_by().values_list("owner_id", "pk"),
        Holder.objects.order_by().values_list("user_id", "coach__account_id"),
        TerritoryCoverage.objects.filter(territory__active=True).order_by().values_list("user_id", "account_id"),
    ]
    rows = set()
    for source in sources:
        for user_id, account_id in source.iterator(chunk_size=2000):
            role, manager_id = users.get(user_id, (None, None))
            if role in ("rep", "manager"):
                rows.add((user_id, account_id))
            if manager_id is not None and users.get(manager_id, (None,))[0] == "manager":
                rows.add((manager_id, account_id))
    VisibleAccount.objects.bulk_create(
        [VisibleAccount(user_id=u, account_id=a) for u, a in rows], batch_size=2000, ignore_conflicts=True
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_account_by_name_index'),
        ('coaches', '0012_coach_holder_count'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='VisibleAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('user', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'account'), name='visible_once')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
