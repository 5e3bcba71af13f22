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


def run_together(calls: list) -> list:
    """Call each of `calls` from its own thread, all released together; results in order.

    The caller's own connection goes back to the pool first, so `len(calls)` threads can each
    hold one without waiting for the test's.
    """
    connection.close()
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    failures: list = []

    def worker(index: int, call) -> None:
        try:
            start.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # surfaced in the caller below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads), "a concurrent request hung"
    return results
