from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        from pipeline.dashboard import SqliteMedian

        connection.connection.create_aggregate("crm_median", 1, SqliteMedian)


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = "Pipeline"

    def ready(self):
        connection_created.connect(_register_sqlite_functions, dispatch_uid="pipeline_sqlite_functions")
