# App configuration of agenda (tasks and the rep's day).
from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "agenda"
    verbose_name = "Agenda"

    def ready(self):
        from agenda import receivers
        from coaches import signals

        signals.style_reported.connect(receivers.close_style_requests, dispatch_uid="agenda.close_style_requests")
