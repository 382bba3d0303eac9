# Page URLs of imports (/imports/).
from django.urls import path

from csvio import views

app_name = "csvio"

urlpatterns = [
    path("<slug:kind>/new/", views.import_create, name="import-create"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("<int:pk>/mapping/", views.import_map, name="import-map"),
    path("<int:pk>/confirm/", views.import_confirm, name="import-confirm"),
    path("<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("<int:pk>/cancel/", views.import_cancel, name="import-cancel"),
]
