from django.contrib.auth.backends import ModelBackend


class CrmBackend(ModelBackend):
    """Password login that also refuses users who have departed."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and user.can_log_in
