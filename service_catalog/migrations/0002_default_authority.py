from decimal import Decimal

from django.db import migrations

# The method's defaults: a rep may grant up to 300 per grant without asking, a manager up to
# 2,000; admins have no limit. The monthly and yearly limits are starting points to adjust.
DEFAULTS = {
    "rep": {
        "per_grant": Decimal("300.00"),
        "per_month": Decimal("1000.00"),
        "per_account_year": Decimal("3000.00"),
        "per_recipient_year": Decimal("500.00"),
    },
    "manager": {
        "per_grant": Decimal("2000.00"),
        "per_month": Decimal("10000.00"),
        "per_account_year": Decimal("20000.00"),
        "per_recipient_year": Decimal("2000.00"),
    },
    "admin": {"per_grant": None, "per_month": None, "per_account_year": None, "per_recipient_year": None},
}


def create_defaults(apps, schema_editor):
    Authority = apps.get_model("service_catalog", "Authority")
    for role, limits in DEFAULTS.items():
        Authority.objects.get_or_create(role=role, user=None, defaults=limits)


class Migration(migrations.Migration):
    dependencies = [("service_catalog", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
