"""0002_departure and the merge 0004_merge_0002_departure_0003_default_playbook, squashed into
one migration after 0003_default_playbook, so that coaches' history is one line.

A database that applied both replaced migrations counts this one as applied (and Django records
it on its next migrate); one that applied neither runs it. Keep the replaced files until every
install has passed 0.1.x: one that applied 0002_departure but not the merge still migrates
through them. Migrations that depend on the merge's name depend on this one instead (Django
rewires them when it builds the graph).
"""

import coaches.models
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('coaches', '0002_departure'),
        ('coaches', '0004_merge_0002_departure_0003_default_playbook'),
    ]

    dependencies = [
        ('coaches', '0003_default_playbook'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalHandover',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('reason', models.CharField(blank=True, max_length=300, verbose_name='why at risk')),
                ('due_on', models.DateField(default=coaches.models._handover_due_on, verbose_name='due')),
                ('status', models.CharField(choices=[('open', 'Open'), ('done', 'Done'), ('cancelled', 'Cancelled')], default='open', max_length=16, verbose_name='status')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='opened')),
                ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='done')),
                ('reminded_on', models.DateField(blank=True, null=True, verbose_name='last reminded')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('coach', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='coaches.coach', verbose_name='coach')),
                ('from_user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='from')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('to_user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='to')),
            ],
            options={
                'verbose_name': 'historical handover',
                'verbose_name_plural': 'historical handovers',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Handover',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(blank=True, max_length=300, verbose_name='why at risk')),
                ('due_on', models.DateField(default=coaches.models._handover_due_on, verbose_name='due')),
                ('status', models.CharField(choices=[('open', 'Open'), ('done', 'Done'), ('cancelled', 'Cancelled')], default='open', max_length=16, verbose_name='status')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='opened')),
                ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='done')),
                ('reminded_on', models.DateField(blank=True, null=True, verbose_name='last reminded')),
                ('coach', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers', to='coaches.coach', verbose_name='coach')),
                ('from_user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers_given', to=settings.AUTH_USER_MODEL, verbose_name='from')),
                ('to_user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers_taken', to=settings.AUTH_USER_MODEL, verbose_name='to')),
            ],
            options={
                'verbose_name': 'handover',
                'ordering': ['due_on', 'pk'],
                'indexes': [models.Index(fields=['to_user', 'status'], name='coaches_han_to_user_460c63_idx'), models.Index(fields=['from_user', 'status'], name='coaches_han_from_us_fecc9f_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('coach', 'from_user'), name='handover_one_open_per_coach_and_from'), models.CheckConstraint(condition=models.Q(('from_user', models.F('to_user')), _negated=True), name='handover_to_someone_else')],
            },
        ),
    ]
