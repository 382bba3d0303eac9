"""Informants recorded by a job change whom no holder verified since are unconfirmed (issue 15).

They meet no stage's requirement until a holder verifies them.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    Coach = apps.get_model("coaches", "Coach")
    CoachMove = apps.get_model("coaches", "CoachMove")
    candidates = CoachMove.objects.filter(new_coach__isnull=False).values("new_coach_id")
    Coach.objects.filter(pk__in=candidates, last_verified_on__isnull=True).update(unconfirmed=True)


class Migration(migrations.Migration):
    dependencies = [("coaches", "0007_coach_unconfirmed")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
