"""ASGI entry point: HTTP and WebSocket on one port.

WebSockets go to Channels. HTTP goes to Django's WSGI handler, run in a pool of threads:
every view here is synchronous (DRF), and Django's own ASGI handler then pays for a fresh
thread per request plus several sync/async switches through the middleware chain. Measured on
this project's 2-core machine (bench/README.md), a page of tasks went from 27 to ~80
requests/s and a trivial view from 98 to ~330, one connection at a time.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from asgiref.sync import sync_to_async
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

wsgi_application = get_wsgi_application()
http_threads = ThreadPoolExecutor(max_workers=settings.HTTP_THREADS, thread_name_prefix="http")
_run_wsgi_app = WsgiToAsgiInstance.__dict__["run_wsgi_app"].func


class _PooledWsgiInstance(WsgiToAsgiInstance):
    """asgiref's WSGI adapter runs every request in one shared thread (thread-sensitive
    mode); this runs each one on a thread of the pool, so requests proceed in parallel."""

    async def run_wsgi_app(self, body):
        run = sync_to_async(
            partial(_run_wsgi_app, self), thread_sensitive=False, executor=http_threads
        )
        await run(body)


class PooledWsgiToAsgi(WsgiToAsgi):
    async def __call__(self, scope, receive, send):
        await _PooledWsgiInstance(self.wsgi_application, self.duplicate_header_limit)(
            scope, receive, send
        )


from config.request_body import RequestBodyGuard  # noqa: E402
from config.websocket import OriginValidator  # noqa: E402
from projects.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyGuard(
            PooledWsgiToAsgi(wsgi_application),
            max_bytes=settings.MAX_BODY_BYTES,
            idle_timeout=settings.REQUEST_BODY_TIMEOUT,
            total_timeout=settings.REQUEST_BODY_TOTAL_TIMEOUT,
        ),
        "websocket": OriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
if settings.FORWARDED_ALLOW_IPS:
    # The client address and scheme from X-Forwarded-For/-Proto, believed only from these
    # proxies (the server runs with --no-proxy-headers: this is the one place that decides).
    application = ProxyHeadersMiddleware(application, trusted_hosts=settings.FORWARDED_ALLOW_IPS)
