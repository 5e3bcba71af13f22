"""The contract's error envelope: `{"type", "errors": [{"code", "detail", "attr"}]}`.

drf-standardized-errors renders it for DRF views; the functions here render it for what
happens outside them (Django-level 400/403/404/500, middleware).
"""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler as StandardExceptionHandler
from drf_standardized_errors.types import Error
from rest_framework import exceptions
from rest_framework.settings import api_settings

from core import exceptions as domain

ERROR_TYPES = {400: "validation_error", 500: "server_error"}


def error_response(status: int, code: str, detail: str, attr: str | None = None) -> JsonResponse:
    """The contract's error envelope for responses made outside DRF views."""
    error_type = ERROR_TYPES.get(status, "server_error" if status >= 500 else "client_error")
    return JsonResponse(
        {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]},
        status=status,
    )


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


# --- The database is unavailable: 503, wherever it is noticed --------------------------------

# SQLSTATEs that mean "no database right now", not "this query is wrong": connection
# exceptions (class 08), and the server shutting down, crashed or still starting up.
UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
DATABASE_RETRY_AFTER_SECONDS = 2


class DatabaseUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "The database is unavailable. Try again in a few seconds."
    default_code = "database_unavailable"
    wait = DATABASE_RETRY_AFTER_SECONDS  # rendered as Retry-After


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` means the database cannot be reached now (stopped, restarting, or no
    pooled connection within DB_POOL_TIMEOUT) rather than a bug: such a request gets a 503
    with Retry-After instead of a 500. psycopg errors carry `sqlstate`, None when the failure
    is on the client side (connection refused or lost, pool timeout); a deadlock, a bad query
    or a SQLite error stays a 500."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", "")
    return sqlstate is None or sqlstate.startswith(UNAVAILABLE_SQLSTATES)


def database_unavailable_response() -> JsonResponse:
    exc = DatabaseUnavailable()
    response = error_response(exc.status_code, exc.default_code, str(exc.detail))
    response["Retry-After"] = str(exc.wait)
    return response


# --- Django's request-size limits: a 400 (or 413) naming what is too large -------------------

QUERY_STRING_ATTR = "query_string"


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"

    def __init__(self):
        super().__init__(f"Request body is larger than {settings.MAX_BODY_BYTES} bytes.")


def query_string_fields(request) -> int:
    query = request.META.get("QUERY_STRING", "")
    return query.count("&") + 1 if query else 0


def request_limit_error(exc: BaseException | None, request) -> exceptions.APIException | None:
    """The client error for one of Django's request-size limits, or None for anything else.

    Django raises these lazily, wherever `request.GET`, `request.POST` or `request.body` is
    first read (inside a view, a parser or a middleware): mapped here, they are the same
    answer at every layer instead of an unhandled 500.
    """
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if query_string_fields(request) > limit:
            return exceptions.ValidationError(
                {
                    QUERY_STRING_ATTR: exceptions.ErrorDetail(
                        f"The query string has more than {limit} parameters.",
                        code="too_many_parameters",
                    )
                }
            )
        return exceptions.ValidationError(
            exceptions.ErrorDetail(
                f"The request body has more than {limit} fields.", code="too_many_fields"
            )
        )
    if isinstance(exc, TooManyFilesSent):
        return exceptions.ValidationError(
            exceptions.ErrorDetail(
                f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files.",
                code="too_many_files",
            )
        )
    if isinstance(exc, RequestDataTooBig):
        # DATA_UPLOAD_MAX_MEMORY_SIZE is MAX_BODY_BYTES (config/settings.py): the contract's 413.
        return RequestTooLarge()
    return None


def request_limit_response(exc: BaseException | None, request) -> JsonResponse | None:
    """`request_limit_error` rendered outside DRF views (middleware, Django-level views)."""
    error = request_limit_error(exc, request)
    if error is None:
        return None
    if isinstance(error.detail, dict):
        attr, detail = next(iter(error.detail.items()))
    else:
        attr, detail = None, error.detail[0]
    return error_response(error.status_code, detail.code, str(detail), attr=attr)


# The one mapping from a service's refusal (core.exceptions) to the contract's status.
DOMAIN_STATUSES = {
    domain.NotFound: 404,
    domain.PermissionDenied: 403,
    domain.Conflict: 409,
    domain.PreconditionFailed: 412,
    domain.Invalid: 400,
}


def as_api_exception(error: domain.DomainError) -> exceptions.APIException:
    """The DRF exception that renders `error` as the contract says: an `Invalid` is a 400 with
    one entry per field (`attr: null` for the request as a whole); the others one entry with
    their status."""
    if isinstance(error, domain.Invalid):
        fields: dict[str, list] = {}
        for field_error in error.errors:
            key = field_error.attr or api_settings.NON_FIELD_ERRORS_KEY
            fields.setdefault(key, []).append(
                exceptions.ErrorDetail(field_error.detail, code=field_error.code)
            )
        return exceptions.ValidationError(fields)
    first = error.errors[0]
    api_exception = exceptions.APIException(first.detail, code=first.code)
    api_exception.status_code = next(
        status for cls, status in DOMAIN_STATUSES.items() if isinstance(error, cls)
    )
    return api_exception


class ExceptionHandler(StandardExceptionHandler):
    """drf-standardized-errors' handler, with the services' refusals (core.exceptions) mapped
    to the contract's statuses, database outages as 503s (not 500s) and Django's request-size
    limits as the client errors they are."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, domain.DomainError):
            return as_api_exception(exc)
        if database_unavailable(exc):
            return DatabaseUnavailable()
        limit_error = request_limit_error(exc, self.context["request"])
        if limit_error is not None:
            return limit_error
        return super().convert_known_exceptions(exc)


class ErrorFormatter(ExceptionFormatter):
    """drf-standardized-errors' envelope, with three changes the contract needs.

    - Every 400 is a `validation_error` (the library calls a JSON parse error a client error).
    - `non_field_errors` is not a field: such errors get `attr: null`.
    - simplejwt raises `InvalidToken({"detail": ..., "code": ..., "messages": [...]})`; the
      stock formatter would turn each key into its own entry. A client wants one entry.
    """

    def get_error_type(self):
        if self.exc.status_code == 400:
            return "validation_error"
        return super().get_error_type()

    def get_errors(self) -> list[Error]:
        detail = self.exc.detail
        if (
            isinstance(detail, dict)
            and "detail" in detail
            and not isinstance(self.exc, exceptions.ValidationError)
        ):
            code = detail.get("code") or getattr(detail["detail"], "code", None)
            return [Error(str(code or self.exc.default_code), str(detail["detail"]), None)]
        # Errors about the body as a whole (not an object, cross-field rules) name no field.
        return [
            Error(error.code, error.detail, None)
            if error.attr == api_settings.NON_FIELD_ERRORS_KEY
            else error
            for error in super().get_errors()
        ]


# Django-level error handlers (used with DEBUG off): JSON under /api/, Django's pages elsewhere.


def handler400(request, exception=None):
    if is_api_path(request.path):
        return request_limit_response(exception, request) or error_response(
            400, "bad_request", "Bad request."
        )
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if is_api_path(request.path):
        return error_response(
            403, "permission_denied", "You do not have permission to perform this action."
        )
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if is_api_path(request.path):
        return error_response(404, "not_found", "Not found.")
    return defaults.page_not_found(request, exception)


def handler500(request):
    if is_api_path(request.path):
        # Django calls this while handling the exception (in a middleware, say).
        if database_unavailable(sys.exception()):
            return database_unavailable_response()
        return error_response(500, "error", "Server Error (500)")
    return defaults.server_error(request)
