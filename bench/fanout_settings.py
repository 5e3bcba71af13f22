"""Bench only: the settings `ws_fanout.py` runs the server with. The product's settings, with
the channel layer that BENCH_CHANNEL_LAYER names: `core` the product's (core/channel_layer.py),
`channels-redis` channels-redis's `RedisChannelLayer` as it ships (what the product used before),
`pubsub` channels-redis's pub/sub layer (`pubsub_settings.py`). A probe writes when each create's
transaction committed (`fanout_probe.py`), so that an event's receipt is timed from its commit.
"""

import os

if os.environ.get("BENCH_CHANNEL_LAYER") == "pubsub":
    from bench.pubsub_settings import *  # noqa: F403
    from bench.pubsub_settings import EVENT_SINKS, INSTALLED_APPS
else:
    from config.settings import *  # noqa: F403
    from config.settings import CHANNEL_LAYERS, EVENT_SINKS, INSTALLED_APPS

    if os.environ.get("BENCH_CHANNEL_LAYER") == "channels-redis":
        CHANNEL_LAYERS = {
            "default": {
                **CHANNEL_LAYERS["default"],
                "BACKEND": "channels_redis.core.RedisChannelLayer",
            }
        }

INSTALLED_APPS = [*INSTALLED_APPS, "bench.fanout_probe.FanoutProbeConfig"]
EVENT_SINKS = [*EVENT_SINKS, "bench.fanout_probe.record"]
