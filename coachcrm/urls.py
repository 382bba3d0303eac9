# The root URLconf: every app's pages, the admin site, and the REST API's router under /api/v1/.
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts.api import AccountViewSet, ContactViewSet, JobChangeView, TerritoryViewSet
from coachcrm.api import not_found
from coaches.api import CoachMoveViewSet, CoachViewSet, ConflictViewSet, InteractionViewSet, StyleReportViewSet
from departures.api import HandoverViewSet, UserDepartureViewSet
from pipeline import views as pipeline_views
from pipeline.api import DashboardView, OpportunityViewSet, StageViewSet
from service_catalog.api import AuthorityViewSet, GrantViewSet, ServiceItemViewSet
from team import views as team_views
from team.api import NotificationViewSet, TokenView, UserViewSet
from webhooks.api import WebhookViewSet


class CrmRouter(DefaultRouter):
    include_format_suffixes = False


def api_urls() -> list:
    """The /api/v1/ URL patterns: one `register` line per resource."""
    router = CrmRouter()
    router.register("accounts", AccountViewSet, basename="account")
    router.register("contacts", ContactViewSet, basename="contact")
    router.register("users", UserViewSet, basename="user")
    router.register("coaches", CoachViewSet, basename="coach")
    router.register("interactions", InteractionViewSet, basename="interaction")
    router.register("stages", StageViewSet, basename="stage")
    router.register("opportunities", OpportunityViewSet, basename="opportunity")
    router.register("service-items", ServiceItemViewSet, basename="service-item")
    router.register("grants", GrantViewSet, basename="grant")
    router.register("territories", TerritoryViewSet, basename="territory")
    router.register("handovers", HandoverViewSet, basename="handover")
    router.register("style-reports", StyleReportViewSet, basename="stylereport")
    router.register("authority", AuthorityViewSet, basename="authority")
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("territory-conflicts", ConflictViewSet, basename="territory-conflict")
    router.register("coach-moves", CoachMoveViewSet, basename="coachmove")
    router.register("webhooks", WebhookViewSet, basename="webhook")
    return [
        path("auth/token/", TokenView.as_view(), name="auth-token"),
        path("job-changes/", JobChangeView.as_view(), name="job-changes"),
        path("dashboard/", DashboardView.as_view(), name="dashboard"),
        # The users resource's depart action, served by the departures app (same address as a router action).
        re_path(
            r"^users/(?P<pk>[^/.]+)/depart/$",
            UserDepartureViewSet.as_view({"post": "depart"}, basename="user", detail=True),
            name="user-depart",
        ),
        *router.urls,
        # Anything else under the API is a JSON 404, not the site's HTML page.
        re_path(r"^.+$", not_found),
    ]


urlpatterns = [
    path("", pipeline_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("locked/", team_views.locked_out, name="locked-out"),
    path("language/", team_views.language_set, name="language-set"),
    path("health/", team_views.health, name="health"),
    path("team/", include("team.urls")),
    # The departure pages live in their own app but keep their /team/ addresses.
    path("team/", include("departures.urls")),
    path("", include("accounts.urls")),  # accounts/… and team/territories/…
    path("admin/", admin.site.urls),
    path("catalog/", include("service_catalog.urls")),
    path("coaches/", include("coaches.urls")),
    path("pipeline/", include("pipeline.urls")),
    path("imports/", include("csvio.urls")),
    path("api/v1/", include((api_urls(), "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # A page for people: sent to the login page rather than answered 401.
    path("api/docs/", login_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
]
