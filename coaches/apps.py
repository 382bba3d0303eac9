# The coaches app: coaches, their holders, interactions, style reports, playbook cards, moves and handovers.
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoachesConfig(AppConfig):
    name = "coaches"
    verbose_name = _("Coaches")

    def ready(self):
        from django.db.models.signals import post_delete, post_init, post_save

        from accounts.models import Account, Territory
        from accounts.signals import contact_moved, coverage_changed, position_ended, record_merged, record_merging
        from coaches import receivers, visibility
        from coaches.models import Holder
        from team.models import User

        contact_moved.connect(receivers.end_coach_who_moved, dispatch_uid="coaches.end_coach_who_moved")
        position_ended.connect(receivers.end_coach_who_left, dispatch_uid="coaches.end_coach_who_left")
        record_merging.connect(receivers.merge_coaches, dispatch_uid="coaches.merge_coaches")
        # The kept visible accounts follow every change of their three sources and of the teams.
        post_init.connect(visibility.account_loaded, sender=Account, dispatch_uid="coaches.visible.account_loaded")
        post_save.connect(visibility.account_saved, sender=Account, dispatch_uid="coaches.visible.account")
        post_save.connect(visibility.holder_changed, sender=Holder, dispatch_uid="coaches.visible.holder_saved")
        post_delete.connect(visibility.holder_changed, sender=Holder, dispatch_uid="coaches.visible.holder_deleted")
        post_save.connect(visibility.territory_saved, sender=Territory, dispatch_uid="coaches.visible.territory")
        post_init.connect(visibility.user_loaded, sender=User, dispatch_uid="coaches.visible.user_loaded")
        post_save.connect(visibility.user_saved, sender=User, dispatch_uid="coaches.visible.user")
        coverage_changed.connect(visibility.coverage_changed, dispatch_uid="coaches.visible.coverage")
        record_merged.connect(visibility.account_merged, dispatch_uid="coaches.visible.merged")
