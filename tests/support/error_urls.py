"""A URL configuration for tests that need views which fail or read a form: config.urls plus
those views.

Used with `settings.ROOT_URLCONF = "tests.support.error_urls"`; the handlers are config.urls' own.
"""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500


class BrokenApiView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("a bug in a DRF view")


def broken_django_view(request):
    raise RuntimeError("a bug in a plain Django view")


def form_reading_django_view(request):
    """Reads the query string, a form body and its files, as a plain Django view may."""
    return JsonResponse(
        {"query": len(request.GET), "fields": len(request.POST), "files": len(request.FILES)}
    )


class QueryReadingMiddleware:
    """Reads the query string before any view runs, for requests that ask for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.headers.get("X-Read-Query"):
            len(request.GET)
        return self.get_response(request)


class ExplodingMiddleware:
    """Fails before any view runs, for requests that ask for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.headers.get("X-Explode"):
            raise RuntimeError("a bug in a middleware")
        return self.get_response(request)


urlpatterns = [
    path("api/test/broken-drf/", BrokenApiView.as_view()),
    path("api/test/broken-django/", broken_django_view),
    path("api/test/reads-form/", form_reading_django_view),
    path("not-api/broken-django/", broken_django_view),
    path("", include("config.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
