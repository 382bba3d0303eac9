from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_mark_read, name="notification-read"),
    path("reps/", views.team_list, name="team-list"),
    path("reps/<int:pk>/departure/", views.departure_detail, name="departure-detail"),
    path("reps/<int:pk>/departure/start/", views.departure_start, name="departure-create"),
    path("handovers/", views.handover_list, name="handover-list"),
    path("handovers/<int:pk>/reassign/", views.handover_reassign, name="handover-reassign"),
]
