"""The test Redis server's own view of its connections."""

import os

import redis


def connections_received(url: str) -> int:
    """Counted server-wide: every client of that server adds to it, from any database (for a
    figure of one process's own, a private server: tests/support/private_redis.py)."""
    client = redis.Redis.from_url(url)
    try:
        return client.info("stats")["total_connections_received"]
    finally:
        client.close()


def connection_ids(name: str) -> set[int]:
    """The ids of the connections open now under this client name (`CLIENT SETNAME`)."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        return {one["id"] for one in client.client_list() if one["name"] == name}
    finally:
        client.close()
