# App configuration of team.
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamConfig(AppConfig):
    name = "team"
    verbose_name = _("Team")

    def ready(self):
        from team import receivers

        receivers.connect()
