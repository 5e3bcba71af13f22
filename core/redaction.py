"""Keep credentials out of the logs: the WebSocket URL carries its access token as `?token=`."""

import re

TOKEN_IN_QUERY = re.compile(r"((?:^|[?&\s])token=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every `token=<value>` (at the start, after `?`, `&` or a space) redacted."""
    return TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


def redact_tokens(logger, method_name: str, event_dict: dict) -> dict:
    """structlog processor: `redact` applied to every string field of a log line."""
    for key, value in event_dict.items():
        if isinstance(value, str) and "token=" in value.lower():
            event_dict[key] = redact(value)
    return event_dict
