from django.db import migrations

# name, order, probability, requires_coach, is_won, is_lost
DEFAULT_STAGES = [
    ("Lead", 10, 10, False, False, False),
    ("Qualified", 20, 20, False, False, False),
    ("Coach confirmed", 30, 40, True, False, False),
    ("Proposal", 40, 60, True, False, False),
    ("Negotiation", 50, 80, True, False, False),
    ("Won", 60, 100, False, True, False),
    ("Lost", 70, 0, False, False, True),
]


def create_stages(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    for name, order, probability, requires_coach, is_won, is_lost in DEFAULT_STAGES:
        Stage.objects.get_or_create(
            name=name,
            defaults={
                "order": order,
                "probability": probability,
                "requires_coach": requires_coach,
                "is_won": is_won,
                "is_lost": is_lost,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(create_stages, migrations.RunPython.noop)]
