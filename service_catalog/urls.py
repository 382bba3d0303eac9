# Page URLs of the catalog, grants, approvals and the ledger (/catalog/).
from django.urls import path

from service_catalog import views

app_name = "service_catalog"

urlpatterns = [
    path("", views.allowance, name="allowance"),
    path("items/", views.item_list, name="item-list"),
    path("items/new/", views.item_create, name="item-create"),
    path("items/<int:pk>/edit/", views.item_update, name="item-update"),
    path("items/<int:pk>/deactivate/", views.item_deactivate, name="item-deactivate"),
    path("authority/", views.authority_list, name="authority-list"),
    path("authority/edit/", views.authority_update, name="authority-update"),
    path("grants/", views.grant_list, name="grant-list"),
    path("grants/new/", views.grant_create, name="grant-create"),
    path("grants/new/preview/", views.grant_preview, name="grant-preview"),
    path("grants/export/", views.grant_export, name="grant-export"),
    path("grants/<int:pk>/", views.grant_detail, name="grant-detail"),
    path("grants/<int:pk>/approve/", views.grant_approve, name="grant-approve"),
    path("grants/<int:pk>/reject/", views.grant_reject, name="grant-reject"),
    path("grants/<int:pk>/cancel/", views.grant_cancel, name="grant-cancel"),
    path("approvals/", views.approval_list, name="approval-list"),
    path("ledger/", views.ledger, name="ledger"),
]
