# The kernel as an installed app: its template tags, and the login stamp the idle timeout reads.
from django.apps import AppConfig


class CoachcrmConfig(AppConfig):
    name = "coachcrm"
    verbose_name = "CoachCRM"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from coachcrm import display
        from coachcrm.security import session_stamp_login

        display.install()

        user_logged_in.connect(session_stamp_login, dispatch_uid="coachcrm.session_stamp_login")
