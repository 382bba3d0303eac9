# Page URLs of the webhook endpoints and their delivery log (admins; /team/webhooks/…).
from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.webhook_list, name="webhook-list"),
    path("webhooks/new/", views.webhook_create, name="webhook-create"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/edit/", views.webhook_update, name="webhook-update"),
    path("webhooks/<int:pk>/active/", views.webhook_active, name="webhook-active"),
    path("webhooks/<int:pk>/rotate-secret/", views.webhook_rotate_secret, name="webhook-rotate-secret"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.delivery_redeliver,
        name="delivery-redeliver",
    ),
]
