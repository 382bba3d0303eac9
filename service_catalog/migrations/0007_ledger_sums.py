# The ledger's kept sums per year and account, recipient or rep (service_catalog.ledger_sums), from the grants there.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear

COUNTED = ["approved", "pending"]


def sums_from_grants(apps, schema_editor):
    """The kept sums of the grants already there, as service_catalog.ledger_sums.ledger_sums_rebuild has them."""
    Grant = apps.get_model("service_catalog", "Grant")
    LedgerGroup = apps.get_model("service_catalog", "LedgerGroup")
    LedgerYear = apps.get_model("service_catalog", "LedgerYear")

    def money(field, **kwargs):
        return Coalesce(Sum(field, **kwargs), Value(0), output_field=DecimalField(max_digits=14, decimal_places=2))

    approved, pending = Q(status="approved"), Q(status="pending")
    sums = {
        "approved": money("amount", filter=approved),
        "approved_count": Count("pk", filter=approved),
        "pending": money("amount", filter=pending),
        "pending_count": Count("pk", filter=pending),
    }
    grants = Grant.objects.filter(status__in=COUNTED).annotate(year=ExtractYear("created_at"))
    for kind in ("account", "recipient", "rep"):
        rows = grants.values("year", kind).annotate(**sums).order_by()
        LedgerGroup.objects.bulk_create(
            (LedgerGroup(**{f"{kind}_id" if key == kind else key: value for key, value in row.items()}) for row in rows),
            batch_size=5000,
        )
    has = {kind: Q(**{f"{kind}__isnull": False}) for kind in ("account", "recipient", "rep")}
    years = LedgerGroup.objects.values("year").annotate(
        total_approved=money("approved", filter=has["account"]),
        total_approved_count=Coalesce(Sum("approved_count", filter=has["account"]), 0),
        total_pending=money("pending", filter=has["account"]),
        total_pending_count=Coalesce(Sum("pending_count", filter=has["account"]), 0),
        accounts=Count("pk", filter=has["account"]),
        recipients=Count("pk", filter=has["recipient"]),
        reps=Count("pk", filter=has["rep"]),
    ).order_by()
    LedgerYear.objects.bulk_create(
        LedgerYear(
            year=row["year"],
            approved=row["total_approved"],
            approved_count=row["total_approved_count"],
            pending=row["total_pending"],
            pending_count=row["total_pending_count"],
            accounts=row["accounts"],
            recipients=row["recipients"],
            reps=row["reps"],
        )
        for row in years
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_account_by_name_index'),
        ('service_catalog', '0006_amount_quantity_bounds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerYear',
            fields=[
                ('year', models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ('approved', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('approved_count', models.PositiveIntegerField(default=0)),
                ('pending', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('pending_count', models.PositiveIntegerField(default=0)),
                ('accounts', models.PositiveIntegerField(default=0)),
                ('recipients', models.PositiveIntegerField(default=0)),
                ('reps', models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='LedgerGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('approved', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('approved_count', models.PositiveIntegerField(default=0)),
                ('pending', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('pending_count', models.PositiveIntegerField(default=0)),
                ('account', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                ('recipient', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.contact')),
                ('rep', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('account__isnull', False)), fields=['year', '-approved'], name='ledger_account_largest'), models.Index(condition=models.Q(('recipient__isnull', False)), fields=['year', '-approved'], name='ledger_recipient_largest'), models.Index(condition=models.Q(('rep__isnull', False)), fields=['year', '-approved'], name='ledger_rep_largest')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('account__isnull', False), ('recipient__isnull', True), ('rep__isnull', True)), models.Q(('account__isnull', True), ('recipient__isnull', False), ('rep__isnull', True)), models.Q(('account__isnull', True), ('recipient__isnull', True), ('rep__isnull', False)), _connector='OR'), name='ledger_group_one_kind'), models.UniqueConstraint(condition=models.Q(('account__isnull', False)), fields=('year', 'account'), name='ledger_group_account_once'), models.UniqueConstraint(condition=models.Q(('recipient__isnull', False)), fields=('year', 'recipient'), name='ledger_group_recipient_once'), models.UniqueConstraint(condition=models.Q(('rep__isnull', False)), fields=('year', 'rep'), name='ledger_group_rep_once')],
            },
        ),
        migrations.RunPython(sums_from_grants, migrations.RunPython.noop),
    ]
