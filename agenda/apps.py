# App configuration of agenda (tasks and the rep's day).
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = _("Agenda")

    def ready(self):
        from agenda import receivers
        from coaches import signals

        signals.style_reported.connect(receivers.close_style_requests, dispatch_uid="agenda.close_style_requests")
