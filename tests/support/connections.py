"""How many connections the test Redis server has accepted so far (Redis's own count)."""

import os

import redis


def connections_received() -> int:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        return client.info("stats")["total_connections_received"]
    finally:
        client.close()
