"""Which browser origins may open a WebSocket.

Channels' own validators refuse a handshake without `Origin` unless every origin is allowed;
the contract wants the opposite balance: scripts and mobile apps (no `Origin`) are accepted,
since the token is the credential, while a browser page from a foreign origin is refused.
Which origins are foreign is core/origins.py's rule, the one CORS follows too.
"""

from channels.security.websocket import WebsocketDenier

from core.origins import origin_allowed


class OriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        origin = origins[0].decode("latin-1") if origins else None
        if len(origins) > 1 or not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
