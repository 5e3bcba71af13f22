from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from core.errors import error_response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Any /api/ path that no route matches, including one missing its trailing slash.

    Matching it here (instead of letting CommonMiddleware redirect to the slashed path) keeps
    clients from silently losing a POST body on a redirect, and answers JSON in DEBUG too.
    """
    return error_response(404, "not_found", "Not found.")


@require_safe
def landing(request):
    """`/`: where a browser (or the admin's "View site" link) lands: links to the docs, the
    schema, the health checks and the admin."""
    return render(request, "tasklane/landing.html")
