from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_mark_read, name="notification-read"),
    path("territories/", views.territory_list, name="territory-list"),
    path("territories/new/", views.territory_create, name="territory-create"),
    path("territories/preview/", views.territory_preview, name="territory-preview"),
    path("territories/<int:pk>/edit/", views.territory_update, name="territory-update"),
    path("territories/<int:pk>/deactivate/", views.territory_deactivate, name="territory-deactivate"),
    path("territories/<int:pk>/move/", views.territory_move, name="territory-move"),
    path("territories/conflicts/", views.conflict_list, name="territory-conflicts"),
]
