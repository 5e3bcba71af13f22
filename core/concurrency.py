"""At most HTTP_MAX_CONCURRENCY HTTP requests in one server process at a time.

A request is counted from its head's arrival to its response's end: while its body is read in
the event loop (up to MAX_BODY_BYTES, core/request_body.py), while it waits for one of the
HTTP_THREADS threads, and while it runs. Beyond the limit a request is answered at once with
the contract's JSON `503` and `Retry-After: 1`, before its body is read, so a flood costs
neither memory for bodies nor an ever longer queue for the threads. The health checks are
never refused (a platform must not restart an instance for being busy), and WebSockets are
not counted: they are limited per user (WS_MAX_SOCKETS_PER_USER).
"""

from functools import cache

from core.errors import error_response

RETRY_AFTER_SECONDS = 1


@cache
def busy_body() -> bytes:
    return error_response(
        503,
        "server_busy",
        "The server is handling too many requests. Try again in a second.",
    ).content


class ConcurrencyLimit:
    def __init__(self, app, *, limit: int):
        self.app = app
        self.limit = limit
        self.in_flight = 0  # one event loop per process: no lock needed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/health/"):
            return await self.app(scope, receive, send)
        if self.in_flight >= self.limit:
            return await busy(send)
        self.in_flight += 1
        try:
            return await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def busy(send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(busy_body())).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": busy_body()})
