from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from team.models import User


@transaction.atomic
def user_deactivate(*, user: User, by: User) -> User:
    """Switch a user off without deleting anything he ever touched."""
    if not by.is_admin:
        raise ValidationError(_("Only an admin can deactivate users."))
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user
