# The kernel as an installed app: its template tags, the login stamp the idle timeout reads, and
# the watch on every connection's writes that keeps the tables' data versions (coachcrm.versions).
from django.apps import AppConfig


class CoachcrmConfig(AppConfig):
    name = "coachcrm"
    verbose_name = "CoachCRM"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created

        from coachcrm import lookups, versions
        from coachcrm.security import session_stamp_login

        lookups.register()
        connection_created.connect(versions.install, dispatch_uid="coachcrm.versions.install")

        user_logged_in.connect(session_stamp_login, dispatch_uid="coachcrm.session_stamp_login")
