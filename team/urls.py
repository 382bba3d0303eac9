# Page URLs of notifications (/team/notifications/).
from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_mark_read, name="notification-read"),
]
