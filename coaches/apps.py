# The coaches app: coaches, their holders, interactions, style reports, playbook cards, moves and handovers.
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoachesConfig(AppConfig):
    name = "coaches"
    verbose_name = _("Coaches")

    def ready(self):
        from accounts.signals import contact_moved, position_ended, record_merging
        from coaches import receivers

        contact_moved.connect(receivers.end_coach_who_moved, dispatch_uid="coaches.end_coach_who_moved")
        position_ended.connect(receivers.end_coach_who_left, dispatch_uid="coaches.end_coach_who_left")
        record_merging.connect(receivers.merge_coaches, dispatch_uid="coaches.merge_coaches")
