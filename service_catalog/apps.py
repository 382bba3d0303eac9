# App configuration of service_catalog.
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceCatalogConfig(AppConfig):
    name = "service_catalog"
    verbose_name = _("Service catalog")

    def ready(self):
        from accounts.signals import record_merged
        from service_catalog import receivers

        record_merged.connect(receivers.merged_ledger_sums, dispatch_uid="service_catalog.merged_ledger_sums")
