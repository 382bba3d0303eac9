# App configuration of service_catalog.
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceCatalogConfig(AppConfig):
    name = "service_catalog"
    verbose_name = _("Service catalog")
