# App configuration of agenda (tasks and the rep's day).
from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Agenda"
