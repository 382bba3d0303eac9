# Page URLs of coaches (/coaches/).
from django.urls import path

from coaches import views

app_name = "coaches"

urlpatterns = [
    path("", views.coach_list, name="coach-list"),
    path("new/", views.coach_create, name="coach-create"),
    path("export/", views.coach_export, name="coach-export"),
    path("<int:pk>/", views.coach_detail, name="coach-detail"),
    path("<int:pk>/verify/", views.coach_verify, name="coach-verify"),
    path("<int:pk>/status/", views.coach_set_status, name="coach-status"),
    path("<int:pk>/cadence/", views.coach_set_cadence, name="coach-cadence"),
    path("<int:pk>/interactions/new/", views.interaction_log, name="interaction-create"),
    path("<int:pk>/holders/new/", views.holder_add, name="holder-create"),
    path("holders/<int:pk>/remove/", views.holder_remove, name="holder-delete"),
    path("holders/<int:pk>/primary/", views.holder_set_primary, name="holder-primary"),
    path("people/<int:pk>/styles/new/", views.style_report_create, name="stylereport-create"),
    path("moved/", views.coach_move_list, name="coachmove-list"),
]
