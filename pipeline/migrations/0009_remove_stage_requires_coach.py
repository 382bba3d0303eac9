from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0008_coach_requirement_from_flag")]

    operations = [migrations.RemoveField(model_name="stage", name="requires_coach")]
