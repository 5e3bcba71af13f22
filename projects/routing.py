from django.urls import path, re_path

from projects.consumers import EventsConsumer, unknown_path

websocket_urlpatterns = [
    path("ws/v1/events/", EventsConsumer.as_asgi()),
    re_path(r"", unknown_path),  # any other path: accepted, then closed with 4404
]
