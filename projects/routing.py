from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from projects.consumers import EventsConsumer

websocket_urlpatterns = [
    path("ws/v1/events/", EventsConsumer.as_asgi()),
    re_path(r"", WebsocketDenier.as_asgi()),  # any other path: refuse the handshake
]
