from django.db.models import QuerySet

from accounts.models import Account, Contact
from team.models import Notification, User


def home_summary(*, user: User) -> dict:
    """What the home page counts for the user."""
    return {
        "account_count": Account.objects.visible_to(user).count(),
        "contact_count": Contact.objects.visible_to(user).count(),
    }


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's notices, newest first."""
    return Notification.objects.filter(user=user)
