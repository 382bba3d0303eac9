# Page URLs of accounts and people (/accounts/) and of territories (/team/territories/).
from django.urls import include, path

from accounts import views

app_name = "accounts"

account_patterns = [
    path("", views.account_list, name="account-list"),
    path("new/", views.account_create, name="account-create"),
    path("export/", views.account_export, name="account-export"),
    path("<int:pk>/", views.account_detail, name="account-detail"),
    path("<int:pk>/edit/", views.account_update, name="account-update"),
    path("<int:pk>/reassign/", views.account_reassign, name="account-reassign"),
    path("<int:pk>/merge/", views.account_merge, name="account-merge"),
    path("duplicates/", views.duplicate_list, name="duplicate-list"),
    path("duplicates/dismiss/", views.duplicate_dismiss, name="duplicate-dismiss"),
    path("duplicates/restore/", views.duplicate_restore, name="duplicate-restore"),
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/export/", views.contact_export, name="contact-export"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.contact_update, name="contact-update"),
    path("contacts/<int:pk>/positions/new/", views.employment_add, name="employment-create"),
    path("positions/<int:pk>/end/", views.employment_end, name="employment-end"),
    path("positions/<int:pk>/reports-to/", views.employment_reports_to, name="employment-reports-to"),
    path("contacts/<int:pk>/move/", views.contact_move, name="contact-move"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="contact-merge"),
]

# Territories keep the addresses they had in the team app: /team/territories/….
territory_patterns = [
    path("", views.territory_list, name="territory-list"),
    path("new/", views.territory_create, name="territory-create"),
    path("preview/", views.territory_preview, name="territory-preview"),
    path("<int:pk>/edit/", views.territory_update, name="territory-update"),
    path("<int:pk>/deactivate/", views.territory_deactivate, name="territory-deactivate"),
    path("<int:pk>/move/", views.territory_move, name="territory-move"),
    path("conflicts/", views.conflict_list, name="territory-conflicts"),
]

# Included at the root (coachcrm/urls.py): both prefixes name their pages in this namespace.
urlpatterns = [
    path("accounts/", include(account_patterns)),
    path("team/territories/", include(territory_patterns)),
]
