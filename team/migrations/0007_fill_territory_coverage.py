from django.db import migrations


def fill(apps, schema_editor):
    """Derive the coverage of the accounts and territories that exist (the rule lives in accounts.models)."""
    from accounts.models import Territory
    from accounts.territories import coverage_refresh

    if Territory.objects.exists():
        coverage_refresh()


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0006_territory_coverage"),
        ("accounts", "0004_merge_0003_account_territory_0003_contact_past_buyer"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
