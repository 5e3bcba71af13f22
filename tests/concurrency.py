"""Run requests at the same moment from several threads, each with its own connection."""

import threading

import pytest
from django.db import connection


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent connections and row locks (PostgreSQL)")


def run_concurrently(request, times: int) -> list:
    """Call `request()` from `times` threads released together; returns their results."""
    start = threading.Barrier(times)
    results = []

    def worker():
        try:
            start.wait(timeout=10)
            results.append(request())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == times, "a concurrent request raised or hung"
    return results
