# Page URLs of the pipeline (/pipeline/).
from django.urls import path

from pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("", views.opportunity_board, name="opportunity-board"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("needs-a-coach/", views.opportunity_held_back, name="opportunity-held-back"),
    path("opportunities/new/", views.opportunity_create, name="opportunity-create"),
    path("opportunities/export/", views.opportunity_export, name="opportunity-export"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity-detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_update, name="opportunity-update"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="opportunity-move"),
    path("opportunities/<int:pk>/close/<int:stage>/", views.opportunity_close, name="opportunity-close"),
    path("opportunities/<int:pk>/reopen/", views.opportunity_reopen, name="opportunity-reopen"),
    path("opportunities/<int:pk>/override/", views.opportunity_override, name="opportunity-override"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/", views.dashboard_export, name="dashboard-export"),
    path("dashboard/forecast/", views.forecast_deal_list, name="forecast-deals"),
    path("opportunities/<int:pk>/people/new/", views.opportunity_contact_add, name="opportunitycontact-create"),
    path("people/<int:pk>/remove/", views.opportunity_contact_remove, name="opportunitycontact-delete"),
    path("opportunities/<int:pk>/committee/", views.committee_member_set, name="committee-set"),
    path("opportunities/<int:pk>/committee.csv", views.committee_export, name="committee-export"),
    path("accounts/<int:pk>/committee/", views.account_committee, name="account-committee"),
    path("accounts/<int:pk>/committee.csv", views.account_committee_export, name="account-committee-export"),
]
