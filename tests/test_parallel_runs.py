"""`make test` runs the suite in parallel (pytest-xdist): what its workers must not share
(tests/support/parallel.py)."""

import re
from pathlib import Path

import pytest

from tests.support.parallel import redis_url_of_worker
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("url", "index", "expected"),
    [
        ("redis://127.0.0.1:6379/1", 0, "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/1", 1, "redis://127.0.0.1:6379/2"),
        ("redis://127.0.0.1:6379", 3, "redis://127.0.0.1:6379/3"),
        ("redis://127.0.0.1:6379/", 2, "redis://127.0.0.1:6379/2"),
        (
            "rediss://:secret@cache.example.com:12345/0?ssl_cert_reqs=none",
            1,
            "rediss://:secret@cache.example.com:12345/1?ssl_cert_reqs=none",
        ),
    ],
)
def test_each_worker_has_the_redis_database_after_the_previous_ones(url, index, expected):
    assert redis_url_of_worker(url, index) == expected


def test_a_worker_beyond_redis_databases_is_refused_not_shared():
    with pytest.raises(ValueError, match="fewer workers"):
        redis_url_of_worker("redis://127.0.0.1:6379/14", 2)


@pytest.mark.parametrize("worker", [0, 1, 2])
def test_workers_pick_ports_no_other_worker_picks(monkeypatch, worker):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")

    ports = [free_port() for _ in range(20)]

    assert {(port // 2) % 3 for port in ports} == {worker}


def test_make_test_runs_in_parallel_with_each_file_on_one_worker():
    """A file's module-wide fixtures (servers) start once; `-n` and the rest: the Makefile."""
    recipe = re.search(r"^test: .*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "no test target"
    assert "-n $(TEST_WORKERS)" in recipe.group(1)
    assert "--dist loadfile" in recipe.group(1)
