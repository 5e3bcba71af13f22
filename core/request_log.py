"""One structured line per HTTP request, written by django-structlog's RequestMiddleware.

The middleware logs `request_finished` (or `request_failed`, with the traceback, when a view
or middleware raised) once the response exists; the receivers here shape that line through
the library's signals:

- `request_id`: the client's `X-Request-ID` when it is sane (a platform router or a proxy
  usually sets one), otherwise a new UUID; returned on every response as `X-Request-ID`.
- `method`, `path` (with its query string, credentials redacted), `status`,
  `duration_ms`, `ip` (REMOTE_ADDR, which core/client_address.py has already set from
  X-Forwarded-For for trusted proxies only) and `user_id`. The library reads `request.user`
  after the view ran, so it is the user DRF authenticated (whatever the credential), not the
  session's.
"""

import re
import time
import uuid

import structlog
from django.dispatch import receiver
from django_structlog import signals

from core.errors import database_unavailable
from core.redaction import redact

REQUEST_ID_HEADER = "X-Request-ID"
# A client's request id is kept when it is short and plain: it lands in every log line of the
# request and in a response header, so anything longer or stranger is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,200}")


def request_id_from(header: str | None) -> str:
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return str(uuid.uuid4())


@receiver(signals.bind_extra_request_metadata)
def bind_request_context(request, logger, log_kwargs, **kwargs):
    """Before the request runs: its id and client address for every line logged meanwhile."""
    request.log_started = time.perf_counter()
    structlog.contextvars.bind_contextvars(
        request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER)),
        ip=request.META.get("REMOTE_ADDR"),
    )


def describe(request, status: int, log_kwargs: dict) -> None:
    """method, path and status as fields of their own, instead of the library's combined
    `request` ("GET /path?query") and `code`."""
    log_kwargs.pop("request", None)
    log_kwargs.pop("code", None)
    started = getattr(request, "log_started", None)
    log_kwargs.update(
        method=request.method,
        path=redact(request.get_full_path()),
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2) if started else None,
    )


def echo_request_id(response) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        response[REQUEST_ID_HEADER] = request_id


@receiver(signals.bind_extra_request_finished_metadata)
def describe_finished_request(request, logger, response, log_kwargs, **kwargs):
    describe(request, response.status_code, log_kwargs)
    echo_request_id(response)


def failed_status(exception: BaseException) -> int:
    """The status of the response an exception becomes (core.errors): it is logged while the
    exception is handled, before that response exists."""
    if database_unavailable(exception):
        return 503
    return getattr(exception, "status_code", 500)


@receiver(signals.bind_extra_request_failed_metadata)
def describe_failed_request(request, logger, exception, log_kwargs, **kwargs):
    describe(request, failed_status(exception), log_kwargs)


@receiver(signals.update_failure_response)
def echo_request_id_on_failure(request, response, logger, exception, **kwargs):
    echo_request_id(response)
