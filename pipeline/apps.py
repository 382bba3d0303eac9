# The pipeline app: stages, opportunities, the coach gate and its consequences, the dashboard.
from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        from pipeline.dashboard import SqliteMedian

        connection.connection.create_aggregate("crm_median", 1, SqliteMedian)


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self):
        from accounts.signals import record_merged, record_merging
        from coachcrm import versions
        from coaches import signals
        from pipeline import receivers
        from pipeline.dashboard import REPORT_TABLES

        # The dashboard is cached under these tables' versions: their writes bump them, in every process.
        versions.watch(REPORT_TABLES)

        connection_created.connect(_register_sqlite_functions, dispatch_uid="pipeline_sqlite_functions")
        signals.account_coached.connect(receivers.release_held_back, dispatch_uid="pipeline.release_held_back")
        signals.accounts_uncoached.connect(receivers.send_back, dispatch_uid="pipeline.send_back")
        signals.coach_moved.connect(receivers.open_prospect, dispatch_uid="pipeline.open_prospect")
        record_merging.connect(receivers.merge_contact_roles, dispatch_uid="pipeline.merge_contact_roles")
        record_merged.connect(receivers.merged_account_gate, dispatch_uid="pipeline.merged_account_gate")
