from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import errors, health, pages

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("", include("projects.urls")),
    path("", include("tasks.urls")),
    path("", include("webhooks.urls")),
    path("", include("notifications.urls")),
]

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="tasklane/redoc.html"),
        name="redoc",
    ),
    re_path(r"^api/", pages.api_not_found),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
]

handler400 = errors.handler400
handler403 = errors.handler403
handler404 = errors.handler404
handler500 = errors.handler500
