"""Which browser origins may open a WebSocket.

Channels' own validators refuse a handshake without `Origin` unless every origin is allowed;
the contract wants the opposite balance: scripts and mobile apps (no `Origin`) are accepted,
since the token is the credential, while a browser page from a foreign origin is refused.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host


def origin_allowed(origin: str | None) -> bool:
    if origin is None:
        return True
    if origin in settings.CORS_ALLOWED_ORIGINS:
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


class OriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        origin = origins[0].decode("latin-1") if origins else None
        if len(origins) > 1 or not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
