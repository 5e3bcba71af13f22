"""Bench only: Tasklane's settings with channels-redis's pub/sub channel layer, which sends a
group's message to Redis once (PUBLISH) and lets each server process deliver it to its own
sockets, instead of one Redis list push per socket. Used by `ws_fanout.py --layer pubsub`
(DJANGO_SETTINGS_MODULE=bench.pubsub_settings); the product's layer is in config/settings.py.
"""

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS

if "CONFIG" not in CHANNEL_LAYERS["default"]:  # the in-memory layer, without Redis
    raise RuntimeError("The pub/sub layer needs REDIS_URL.")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": CHANNEL_LAYERS["default"]["CONFIG"]["hosts"],
            "prefix": "tasklane",
        },
    }
}
