"""Turn each stage's `requires_coach` flag into its coach requirement (issue 15).

The first gated stage (Coach confirmed by default) needs a qualified coach; every later gated
stage, and winning when any stage was gated, a verified one. Stages without the flag need none.
"""

from django.db import migrations

# The default stages' requirements after this migration (tests/factories.py reads them).
DEFAULT_REQUIREMENTS = {
    "Coach confirmed": "qualified",
    "Proposal": "verified",
    "Negotiation": "verified",
    "Won": "verified",
}


def forwards(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    gated = list(Stage.objects.filter(requires_coach=True, is_won=False, is_lost=False).order_by("order"))
    for index, stage in enumerate(gated):
        stage.coach_requirement = "qualified" if index == 0 else "verified"
        stage.save(update_fields=["coach_requirement"])
    if gated:
        Stage.objects.filter(is_won=True).update(coach_requirement="verified")


def backwards(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    Stage.objects.filter(is_won=False, is_lost=False).exclude(coach_requirement="none").update(requires_coach=True)


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0007_stage_coach_requirement_gatesweep")]

    operations = [migrations.RunPython(forwards, backwards)]
