# App configuration of service_catalog.
from django.apps import AppConfig


class ServiceCatalogConfig(AppConfig):
    name = "service_catalog"
    verbose_name = "Service catalog"
