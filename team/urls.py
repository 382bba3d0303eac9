# Page URLs of notifications, the profile and the login audit (/team/…).
from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_mark_read, name="notification-read"),
    path("profile/", views.profile, name="profile"),
    path("security/", views.security_event_list, name="securityevent-list"),
    path("profile/two-factor/", views.mfa_setup, name="mfa-setup"),
    path("profile/password/", views.PasswordChangeView.as_view(), name="password-change"),
]
