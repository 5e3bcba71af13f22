"""Which browser origins may call the API (CORS) and open a WebSocket: one rule for both.

An origin is allowed when it is an entry of CORS_ALLOWED_ORIGINS (exact scheme, host and port),
or an `http` or `https` origin whose host, on any port, matches ALLOWED_HOSTS as Django matches
hosts (a leading `.` matches subdomains; `*` is not honoured here). In DEBUG, ALLOWED_HOSTS
defaults to localhost, 127.0.0.1 and [::1], so a front end served locally on any port (a dev
server on :3000 or :5173) works without configuration.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host


def origin_allowed(origin: str | None) -> bool:
    """No `Origin` is not a browser page: allowed (the token is the credential)."""
    if origin is None or origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    patterns = [pattern for pattern in settings.ALLOWED_HOSTS if pattern != "*"]
    if host.count(":"):  # IPv6 literals are listed in brackets in ALLOWED_HOSTS
        host = f"[{host}]"
    return validate_host(host, patterns)
