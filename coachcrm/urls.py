# The root URLconf: every app's pages, the admin site, and the REST API's router under /api/v1/.
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import AccountViewSet, ContactViewSet, DuplicateViewSet, JobChangeView, TerritoryViewSet
from agenda import views as agenda_views
from agenda.api import DigestView, NoteView, SearchView, TaskViewSet, TimelineView, TodayView, TouchView
from coachcrm.api import not_found
from coachcrm.security import csp_report
from coaches.api import (
    CoachMoveViewSet,
    CoachViewSet,
    ConflictViewSet,
    InteractionViewSet,
    StanceReportViewSet,
    StyleReportViewSet,
)
from csvio.api import ImportBatchViewSet
from departures.api import HandoverViewSet, UserDepartureViewSet
from pipeline.api import (
    AccountCommitteeView,
    DashboardView,
    GateSweepView,
    LossReasonViewSet,
    OpportunityViewSet,
    StageViewSet,
)
from service_catalog.api import AuthorityViewSet, GrantViewSet, ServiceItemViewSet
from team import views as team_views
from team.api import NotificationViewSet, SecurityEventViewSet, TokenView, UserViewSet
from webhooks.api import WebhookViewSet


class CrmRouter(DefaultRouter):
    include_format_suffixes = False


def api_urls() -> list:
    """The /api/v1/ URL patterns: one `register` line per resource."""
    router = CrmRouter()
    router.register("accounts", AccountViewSet, basename="account")
    router.register("contacts", ContactViewSet, basename="contact")
    router.register("duplicates", DuplicateViewSet, basename="duplicate")
    router.register("users", UserViewSet, basename="user")
    router.register("coaches", CoachViewSet, basename="coach")
    router.register("interactions", InteractionViewSet, basename="interaction")
    router.register("stance-reports", StanceReportViewSet, basename="stancereport")
    router.register("stages", StageViewSet, basename="stage")
    router.register("opportunities", OpportunityViewSet, basename="opportunity")
    router.register("loss-reasons", LossReasonViewSet, basename="loss-reason")
    router.register("service-items", ServiceItemViewSet, basename="service-item")
    router.register("grants", GrantViewSet, basename="grant")
    router.register("territories", TerritoryViewSet, basename="territory")
    router.register("handovers", HandoverViewSet, basename="handover")
    router.register("tasks", TaskViewSet, basename="task")
    router.register("style-reports", StyleReportViewSet, basename="stylereport")
    router.register("authority", AuthorityViewSet, basename="authority")
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("territory-conflicts", ConflictViewSet, basename="territory-conflict")
    router.register("coach-moves", CoachMoveViewSet, basename="coachmove")
    router.register("webhooks", WebhookViewSet, basename="webhook")
    router.register("imports", ImportBatchViewSet, basename="import")
    router.register("security-events", SecurityEventViewSet, basename="security-event")
    return [
        path("auth/token/", TokenView.as_view(), name="auth-token"),
        path("job-changes/", JobChangeView.as_view(), name="job-changes"),
        path("dashboard/", DashboardView.as_view(), name="dashboard"),
        path("gate-sweep/", GateSweepView.as_view(), name="gate-sweep"),
        path("today/", TodayView.as_view(), name="today"),
        path("digest/", DigestView.as_view(), name="digest"),
        path("touches/", TouchView.as_view(), name="touches"),
        path("search/", SearchView.as_view(), name="search"),
        path("notes/", NoteView.as_view(), name="notes"),
        # The records' timelines (served by agenda, at the records' addresses, like users/{id}/depart/).
        path("accounts/<int:pk>/timeline/", TimelineView.as_view(kind="account"), name="account-timeline"),
        path("accounts/<int:pk>/committee/", AccountCommitteeView.as_view(), name="account-committee"),
        path("contacts/<int:pk>/timeline/", TimelineView.as_view(kind="contact"), name="contact-timeline"),
        path("opportunities/<int:pk>/timeline/", TimelineView.as_view(kind="opportunity"), name="opportunity-timeline"),
        # The users resource's depart action, served by the departures app (same address as a router action).
        re_path(
            r"^users/(?P<pk>[^/.]+)/depart/$",
            UserDepartureViewSet.as_view({"post": "depart"}, basename="user", detail=True),
            name="user-depart",
        ),
        re_path(
            r"^users/(?P<pk>[^/.]+)/depart/cancel/$",
            UserDepartureViewSet.as_view({"post": "depart_cancel"}, basename="user", detail=True),
            name="user-depart-cancel",
        ),
        *router.urls,
        # Anything else under the API is a JSON 404, not the site's HTML page.
        re_path(r"^.+$", not_found),
    ]


urlpatterns = [
    path("", agenda_views.today, name="home"),
    path("", include("agenda.urls")),
    path("login/", team_views.LoginView.as_view(), name="login"),
    path("login/code/", team_views.login_code, name="login-code"),
    # The admin site signs in through the same login (password, then the second factor).
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="login", query_string=True)),
        name="admin-login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("locked/", team_views.locked_out, name="locked-out"),
    # Password reset: Django's views (names as Django's templates and forms expect them).
    path("password-reset/", team_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", team_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("language/", team_views.language_set, name="language-set"),
    path("health/", team_views.health, name="health"),
    path("health/ready/", team_views.health_ready, name="health-ready"),
    path("csp-report/", csp_report, name="csp-report"),
    path("team/", include("team.urls")),
    # The departure pages live in their own app but keep their /team/ addresses.
    path("team/", include("departures.urls")),
    path("team/", include("webhooks.urls")),  # team/webhooks/…: the endpoints (admins)
    path("", include("accounts.urls")),  # accounts/… and team/territories/…
    path("admin/", admin.site.urls),
    path("catalog/", include("service_catalog.urls")),
    path("coaches/", include("coaches.urls")),
    path("pipeline/", include("pipeline.urls")),
    path("imports/", include("csvio.urls")),
    path("api/v1/", include((api_urls(), "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # A page for people: sent to the login page rather than answered 401.
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
]
