# App configuration of csvio.
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CsvioConfig(AppConfig):
    name = "csvio"
    verbose_name = _("CSV import and export")
