from django.db import migrations


def fill(apps, schema_editor):
    """Derive the coverage of the accounts and territories that exist (the rule lives in team.models)."""
    from team.models import Territory
    from team.services import coverage_refresh

    if Territory.objects.exists():
        coverage_refresh()


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0006_territory_coverage"),
        ("accounts", "0004_merge_0003_account_territory_0003_contact_past_buyer"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
