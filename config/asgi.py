"""ASGI entry point: HTTP and WebSocket on one port.

WebSockets go to Channels. HTTP goes to Django's WSGI handler on a pool of HTTP_THREADS
threads (a2wsgi): every view is synchronous (DRF), and Django's own ASGI handler would start a
thread and switch between sync and async several times per request. Request bodies are read
in the event loop first (core/request_body.py), so a slow upload never holds a thread.
Measurements: bench/README.md.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from a2wsgi import WSGIMiddleware
from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.core.wsgi import get_wsgi_application

wsgi_application = get_wsgi_application()

from core.client_address import ClientAddressMiddleware  # noqa: E402
from core.concurrency import ConcurrencyLimit  # noqa: E402
from core.realtime import serving_loop  # noqa: E402
from core.request_body import RequestBodyGuard  # noqa: E402
from core.websocket import OriginValidator  # noqa: E402
from projects.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": ConcurrencyLimit(
            RequestBodyGuard(
                WSGIMiddleware(wsgi_application, workers=settings.HTTP_THREADS),
                max_bytes=settings.MAX_BODY_BYTES,
                idle_timeout=settings.REQUEST_BODY_TIMEOUT,
                total_timeout=settings.REQUEST_BODY_TOTAL_TIMEOUT,
            ),
            limit=settings.HTTP_MAX_CONCURRENCY,
        ),
        "websocket": OriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
if settings.FORWARDED_ALLOW_IPS:
    # The client address and scheme from X-Forwarded-For/-Proto, believed only from these
    # proxies (the server runs with --no-proxy-headers: this is the one place that decides).
    application = ClientAddressMiddleware(application, trusted=settings.FORWARDED_ALLOW_IPS)
# Events from the views are sent on the server's event loop (core/realtime.py says why).
application = serving_loop(application)

# What the process has imported and built so far lives as long as it does: moved out of the
# garbage collector's way, a full collection no longer walks it, a pause that every request in
# flight would wait out (bench/README.md, gc.freeze).
gc.collect()
gc.freeze()
