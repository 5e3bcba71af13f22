"""The contract's error envelope: `{"type", "errors": [{"code", "detail", "attr"}]}`.

drf-standardized-errors renders it for DRF views; the functions here render it for what
happens outside them (Django-level 400/403/404/500, middleware).
"""

from django.http import JsonResponse
from django.views import defaults
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.types import Error
from rest_framework import exceptions
from rest_framework.settings import api_settings

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


class ErrorFormatter(ExceptionFormatter):
    """drf-standardized-errors' envelope, with two changes the contract needs.

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
        return error_response(400, "bad_request", "Bad request.")
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
        return error_response(500, "error", "Server Error (500)")
    return defaults.server_error(request)
