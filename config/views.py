from django.views.decorators.csrf import csrf_exempt

from config.errors import error_response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Any /api/ path that no route matches, including one missing its trailing slash.

    Matching it here (instead of letting CommonMiddleware redirect to the slashed path) keeps
    clients from silently losing a POST body on a redirect, and answers JSON in DEBUG too.
    """
    return error_response(404, "not_found", "Not found.")
