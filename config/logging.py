"""Keep credentials out of the logs."""

import logging
import re

TOKEN_IN_QUERY = re.compile(r"((?:^|[?&\s])token=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    return TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """Redact `token=...` query values (WebSocket URLs) from every log record.

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
