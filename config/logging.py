"""Logging: every line to stdout, as JSON (LOG_FORMAT=json) or for people (console).

Tasklane's own lines and the per-request line (core/request_log.py) come from structlog;
Django's, uvicorn's and other libraries' standard `logging` records are rendered by the same
formatter, so stdout carries one format. No credential reaches a line: core/redaction.py
removes tokens from messages, fields and tracebacks, whatever their parameter is called.
"""

import logging

import structlog

from core.redaction import redact, redact_tokens

# Added to records that do not come from structlog (Django, uvicorn, `logging.getLogger`):
# the request's id and user too, when one is being handled.
FOREIGN_PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class RedactTokensFilter(logging.Filter):
    """Redact credentials (core/redaction.py) from every log record.

    uvicorn's access log prints the full path with its query string; the WebSocket access
    token travels there, and a log line is no place for a credential.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    """One JSON object per line; a traceback is the `exception` field's text."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_tokens,  # the traceback's text too
            structlog.processors.JSONRenderer(),
        ],
    )


def console_formatter() -> structlog.stdlib.ProcessorFormatter:
    """Aligned `key=value` lines for people (the default in DEBUG). Tracebacks are Python's
    own, redacted like the rest: the fancier renderers print local variables, which hold
    tokens and passwords."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_tokens,
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
        ],
    )


def configure_structlog() -> None:
    """structlog hands its events to the standard `logging` handlers configured in LOGGING
    (which render them), so levels and destinations are set in one place."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            redact_tokens,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
