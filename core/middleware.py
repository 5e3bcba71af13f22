"""Request-level guards that DRF's exception handler cannot provide."""

import logging

from corsheaders.middleware import CorsMiddleware as LibraryCorsMiddleware
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from core.errors import (
    database_unavailable,
    database_unavailable_response,
    error_response,
    handler400,
    handler403,
    handler404,
    is_api_path,
    request_limit_response,
)
from core.origins import origin_allowed
from core.request_body import ERROR_META, TIMED_OUT, TOO_LARGE

logger = logging.getLogger("tasklane.errors")

METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The JSON answers Django's own error pages get under /api/, in DEBUG too.
DJANGO_ERROR_HANDLERS = {400: handler400, 403: handler403, 404: handler404}


class ApiErrorMiddleware:
    """An unhandled exception under /api/ becomes the contract's JSON 500, in DEBUG too, and
    Django's own 400, 403 and 404 pages the contract's JSON ones.

    DRF's handler covers exceptions raised inside views; this covers middleware and anything
    else between the server and the view. The traceback is logged, never sent to the client.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not is_api_path(request.path) or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        if response.status_code >= 500:
            # An exception in an inner middleware, rendered by Django's technical 500 page.
            return error_response(response.status_code, "error", "Server Error (500)")
        if response.status_code >= 400 and isinstance(getattr(response, "data", None), dict):
            # A DRF view's error in its own format (the schema view's answers OpenAPI YAML):
            # already the contract's envelope, rendered as the contract's JSON.
            rendered = JsonResponse(response.data, status=response.status_code)
            for header, value in response.items():
                if header.lower() not in ("content-type", "content-length"):
                    rendered[header] = value
            return rendered
        if response.status_code in DJANGO_ERROR_HANDLERS:
            # A page Django rendered itself: in DEBUG its technical page (an unknown Host is a
            # 400 that shows the settings) instead of the handler it uses with DEBUG off.
            return DJANGO_ERROR_HANDLERS[response.status_code](request)
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        limit_response = request_limit_response(exception, request)
        if limit_response is not None:
            return limit_response
        if database_unavailable(exception):
            logger.warning(
                "Database unavailable on %s %s: %s", request.method, request.path, exception
            )
            return database_unavailable_response()
        logger.error(
            "Unhandled exception on %s %s", request.method, request.path, exc_info=exception
        )
        return error_response(500, "error", "Server Error (500)")


class BodySizeLimitMiddleware:
    """413 for any /api/ request body larger than MAX_BODY_BYTES, 408 for one that stalled.

    Under ASGI the body was already read, up to the limit, by `core.request_body` (which
    marks what it refused); under plain WSGI the declared Content-Length and the bytes actually
    received are checked here. DRF reads the request stream itself, so Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE never stops a large JSON body (and where it does, it becomes a
    400).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = request.META.get(ERROR_META)
        if refused == TIMED_OUT:
            return error_response(
                408,
                "request_timeout",
                f"The request body stopped arriving for {settings.REQUEST_BODY_TIMEOUT} seconds.",
            )
        if refused == TOO_LARGE:
            return self.too_large(settings.MAX_BODY_BYTES)
        if is_api_path(request.path):
            limit = settings.MAX_BODY_BYTES
            declared = request.META.get("CONTENT_LENGTH") or "0"
            if not declared.isdigit():
                return error_response(400, "invalid", "Invalid Content-Length header.")
            if int(declared) > limit:
                return self.too_large(limit)
            if request.method not in METHODS_WITH_BODY:
                return self.get_response(request)
            try:
                received = len(request.body)
            except RequestDataTooBig:
                return self.too_large(limit)
            if received > limit:
                return self.too_large(limit)
        return self.get_response(request)

    @staticmethod
    def too_large(limit: int):
        return error_response(
            413, "request_too_large", f"Request body is larger than {limit} bytes."
        )


class CorsMiddleware(LibraryCorsMiddleware):
    """django-cors-headers, with the allowed origins decided by the rule the WebSocket uses
    (core/origins.py) instead of the library's own list matching."""

    def origin_found_in_white_lists(self, origin, url) -> bool:
        return origin_allowed(origin)
