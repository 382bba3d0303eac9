# Reads about users: the notification list.
from django.db.models import (
    QuerySet,
)

from team.models import Notification, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's notices, newest first."""
    return Notification.objects.filter(user=user)
