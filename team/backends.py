from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class CrmBackend(ModelBackend):
    """Password login that also refuses users who have departed."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and user.can_log_in


class CrmTokenAuthentication(TokenAuthentication):
    """API `Authorization: Token <key>`, refused for departed users just like the login page."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if not user.can_log_in:
            raise AuthenticationFailed(_("User inactive or departed."))
        return user, token
