# Page URLs of the team page, departures and handovers (under /team/).
from django.urls import path

from departures import views

app_name = "departures"

# Under /team/ beside team.urls (coachcrm/urls.py): the pages kept their addresses.
urlpatterns = [
    path("reps/", views.team_list, name="team-list"),
    path("reps/<int:pk>/departure/", views.departure_detail, name="departure-detail"),
    path("reps/<int:pk>/departure/start/", views.departure_start, name="departure-create"),
    path("reps/<int:pk>/departure/cancel/", views.departure_cancel, name="departure-cancel"),
    path("handovers/", views.handover_list, name="handover-list"),
    path("handovers/<int:pk>/reassign/", views.handover_reassign, name="handover-reassign"),
]
