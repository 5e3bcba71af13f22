"""Request bodies are read here, in the event loop, before any thread is given the request.

A WSGI-style application (Django behind an adapter) only starts once it has the whole body,
so without this a 64 MB upload is spooled to disk before its 413, a body that stops arriving
holds its request forever, and a chunked body (no Content-Length) reaches Django as empty.

`RequestBodyGuard` reads at most MAX_BODY_BYTES:
- a declared Content-Length over the limit is refused before a byte of the body is read;
- a streamed body is cut off as soon as it passes the limit;
- a body that stalls for REQUEST_BODY_TIMEOUT seconds is abandoned;
- a complete body is handed on in one piece with its real Content-Length.

Refusals are not answered here: the request goes on without its body, marked with the
`x-tasklane-body-error` header (a client's own copy is dropped), and
`core.middleware.BodySizeLimitMiddleware` answers in the contract's shape, after the CORS
and security middleware, like every other error.
"""

import asyncio
import time

ERROR_HEADER = "x-tasklane-body-error"
ERROR_META = "HTTP_X_TASKLANE_BODY_ERROR"  # the header as Django's request.META names it
TOO_LARGE = "too-large"
TIMED_OUT = "timeout"
DROPPED_HEADERS = frozenset({b"content-length", b"transfer-encoding", ERROR_HEADER.encode()})


class RequestBodyGuard:
    def __init__(self, app, *, max_bytes: int, idle_timeout: float, total_timeout: float):
        self.app = app
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.total_timeout = total_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            return await self._forward(scope, receive, send, b"", TOO_LARGE)
        body, error = await self._read(receive)
        if body is None:  # the client went away before sending its body
            return None
        return await self._forward(scope, receive, send, body, error)

    async def _read(self, receive) -> tuple[bytes | None, str | None]:
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.total_timeout
        while True:
            wait = min(self.idle_timeout, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0))
            except TimeoutError:
                return b"", TIMED_OUT
            if message["type"] == "http.disconnect":
                return None, None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return b"", TOO_LARGE
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    async def _forward(self, scope, receive, send, body: bytes, error: str | None):
        headers = [(name, value) for name, value in scope["headers"] if name not in DROPPED_HEADERS]
        headers.append((b"content-length", str(len(body)).encode()))
        if error is not None:
            headers.append((ERROR_HEADER.encode(), error.encode()))
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            if error is not None:  # the rest of the body is never read
                return {"type": "http.disconnect"}
            return await receive()

        return await self.app({**scope, "headers": headers}, replay, send)


def declared_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
