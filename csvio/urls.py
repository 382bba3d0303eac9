# Page URLs of imports (/imports/).
from django.urls import path

from csvio import views

app_name = "csvio"

urlpatterns = [
    path("<slug:kind>/new/", views.import_create, name="import-create"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("<int:pk>/confirm/", views.import_confirm, name="import-confirm"),
]
