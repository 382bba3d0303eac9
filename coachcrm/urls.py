from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coachcrm.api import api_urls
from pipeline import views as pipeline_views
from team import views as team_views

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
    path("accounts/", include("accounts.urls")),
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
