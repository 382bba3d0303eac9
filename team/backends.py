# Authentication: password login and knox API tokens, both refused to departed users.
from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from coachcrm.keyed import KeyedGet
from team.models import User

# ModelBackend's `get(pk=...)` of each request's user, compiled once (coachcrm.keyed).
_USER_BY_PK = KeyedGet(User, ("id__exact",))


class CrmBackend(ModelBackend):
    """Password login that also refuses users who have departed."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and user.can_log_in

    def get_user(self, user_id):
        """The signed-in user of a request (ModelBackend's, the same row and checks), its SQL compiled once."""
        try:
            user = _USER_BY_PK.get(id=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class CrmTokenAuthentication(TokenAuthentication):
    """API `Authorization: Token <token>` (knox: hashed, expiring), refused for departed users like the login page."""

    def validate_user(self, auth_token):
        if not auth_token.user.can_log_in:
            raise AuthenticationFailed(_("User inactive or departed."))
        return auth_token.user, auth_token


class CrmTokenScheme(KnoxTokenScheme):
    """The schema's security scheme: drf-spectacular's knox extension matches knox's class only, not subclasses."""

    target_class = "team.backends.CrmTokenAuthentication"
    name = "tokenAuth"
