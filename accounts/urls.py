from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="account-list"),
    path("new/", views.account_create, name="account-create"),
    path("export/", views.account_export, name="account-export"),
    path("<int:pk>/", views.account_detail, name="account-detail"),
    path("<int:pk>/edit/", views.account_update, name="account-update"),
    path("<int:pk>/reassign/", views.account_reassign, name="account-reassign"),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/export/", views.contact_export, name="contact-export"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.contact_update, name="contact-update"),
    path("contacts/<int:pk>/positions/new/", views.employment_add, name="employment-create"),
    path("positions/<int:pk>/end/", views.employment_end, name="employment-end"),
    path("contacts/<int:pk>/move/", views.contact_move, name="contact-move"),
]
