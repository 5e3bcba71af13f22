"""Error reporting to Sentry, switched on by SENTRY_DSN (config/settings.py imports this
module only then).

Unhandled exceptions reach Sentry through its Django integration (Django's and DRF's
`got_request_exception`), tagged with the request id of the request's log line. Nothing personal or
secret is sent: no user details, cookies or Authorization header (send_default_pii off), no
request bodies (passwords, tokens), no local variables, and credentials redacted
(core/redaction.py).
"""

import sentry_sdk
import structlog
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import ignore_logger
from sentry_sdk.utils import BadDsn

from core.redaction import redact

# django-structlog's per-request line: its `request_failed` repeats an exception the Django
# integration reports already, and its 5xx `request_finished` lines are not exceptions.
REQUEST_LOGGER = "django_structlog.middlewares.request"


def before_send(event, hint):
    request = event.get("request") or {}
    for field in ("query_string", "url"):
        if isinstance(request.get(field), str):
            request[field] = redact(request[field])
    # The request's log lines carry the same id (core/request_log.py).
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_sentry(*, dsn: str, environment: str, release: str | None) -> None:
    try:
        sentry_sdk.init(
            dsn=dsn,
            environment=environment,
            release=release,
            integrations=[DjangoIntegration()],
            send_default_pii=False,
            max_request_body_size="never",
            include_local_variables=False,
            before_send=before_send,
        )
    except BadDsn as error:
        raise ImproperlyConfigured(f"SENTRY_DSN is not a valid Sentry DSN ({error}).") from None
    ignore_logger(REQUEST_LOGGER)
