"""What the worker processes of a parallel run (pytest-xdist, `make test`) must not share.

Each has its own PostgreSQL test database (pytest-django's `test_<name>_gw<n>`), its own
Redis database (the root conftest's `pytest_xdist_setupnodes`), its own ports for the servers
its tests start (`free_port` in tests/support/server.py), and takes `exclusive` locks for what
lives in the checkout itself. A run without xdist is worker 0 of 1.
"""

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
# Redis's default `databases` setting.
REDIS_DATABASES = 16


def worker_index() -> int:
    """0, 1, … for the workers gw0, gw1, …; 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_count() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def redis_url_of_worker(url: str, index: int) -> str:
    """`url` with the database after its own by `index`: redis://h:6379/1 is worker 0's,
    redis://h:6379/2 worker 1's, and so on."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + index
    if database >= REDIS_DATABASES:
        raise ValueError(
            f"REDIS_URL {url} leaves no Redis database for worker {index} (Redis has "
            f"{REDIS_DATABASES}): use a lower database number or fewer workers (-n)"
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """One process at a time, across the workers of a run (and concurrent runs of the same
    checkout): for what lives in the checkout, such as `make run`'s collectstatic into
    staticfiles/."""
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"tasklane-tests-{checkout}-{name}.lock"
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
