"""Keep credentials out of the logs, whatever a client called them.

The WebSocket URL carries its access token as `?token=`, but a client may send one under any
name (`?access_token=`, `?%74oken=`, `?x=1;token=`). `redact` replaces:

- the value of every query parameter named `token` (its name percent-decoded, any case),
  after `?`, `&`, `;`, a space or at the start;
- the value of every query parameter, whatever its name, that holds a JWT or a personal
  access token (`tl_pat_...`), percent-encoded or not;
- any JWT or personal access token anywhere else in the text (a traceback, a message).

A JWT is recognised by its header: base64url of a JSON object starts with `eyJ`.
"""

import re
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
CREDENTIAL = re.compile(
    r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*|tl_pat_[A-Za-z0-9]+"
)
QUERY_PARAMETER = re.compile(
    r"(?P<lead>(?:^|[?&;\s])(?P<name>[^=?&;\s\"']+)=)(?P<value>[^?&;\s\"']*)"
)


def _parameter(match: re.Match) -> str:
    name = unquote_plus(match["name"]).strip().lower()
    value = match["value"]
    if value and (name == "token" or CREDENTIAL.search(unquote_plus(value))):
        return match["lead"] + REDACTED
    return match[0]


def redact(text: str) -> str:
    """`text` without credentials (see the module's docstring)."""
    if "=" in text:
        text = QUERY_PARAMETER.sub(_parameter, text)
    return CREDENTIAL.sub(REDACTED, text)


def redact_tokens(logger, method_name: str, event_dict: dict) -> dict:
    """structlog processor: `redact` applied to every string field of a log line."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict
