"""Where one task-list request's time goes, in-process, on the database `make bench` seeded.

The request goes through Django's WSGI handler as the server runs it (every middleware, the
request log line written to a file, the view, JSON), without the HTTP server. Each step is
timed by a wrapper around its function (a few microseconds per call, so the figures are
close to an unprofiled request's); SQL is timed per statement with Django's execute
wrapper. Run it after `make bench` (or with BENCH_SEED=0) on the same database:

    .venv/bin/python bench/profile_list.py [--visible 10000] [--page 50] [--query ""]
        [--requests 300] [--cold] [--top 0]

--top N adds cProfile's N most expensive functions (their own time), under the profiler.
"""

import argparse
import cProfile
import functools
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from run import DEFAULT_DATABASE, ROOT, prepare_django, server_env, setting

spent: dict[str, float] = defaultdict(float)


def timed(owner, name: str, label: str, *, classmethod_: bool = False) -> None:
    """Adds the time of every call of owner.name to spent[label]."""
    original = owner.__dict__[name].__func__ if classmethod_ else getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    setattr(owner, name, classmethod(wrapper) if classmethod_ else wrapper)


# (label, owner, attribute): rows of the table, in this order. Indented rows are inside the
# row above them; "across" rows are summed over every step.
STEPS = [
    ("whole request, every middleware (WSGI handler)", None, None),
    ("  django-structlog middleware's own time and its log line", None, None),
    ("  the other middleware, URL routing", None, None),
    ("  the view (DRF dispatch)", "rest_framework.views:APIView", "dispatch"),
    ("    authentication", "rest_framework.request:Request", "_authenticate"),
    (
        "      personal-token check (passes a JWT on)",
        "accounts.authentication:PersonalAccessTokenAuthentication",
        "authenticate",
    ),
    (
        "      JWT: signature, expiry, user row (query)",
        "accounts.authentication:JWTAuthentication",
        "authenticate",
    ),
    ("    throttle", "rest_framework.views:APIView", "check_throttles"),
    ("    caller's projects (query)", "tasks.selectors", "roles_for"),
    ("    filters and ordering parsed", "tasks.views:TaskViewSet", "filter_queryset"),
    ("    count (cache lookup, or the query)", "tasks.counts", "cached_count"),
    ("    the page: ids merged, rows and users joined (query)", "tasks.listing", "page_rows"),
    ("    rows to dicts", "tasks.views", "task_row_to_dict"),
    ("    JSON encoding", "core.renderers:JSONRenderer", "render"),
    ("across: SQL, sent and answered", None, None),
    ("across: Redis commands", "redis.client:Redis", "execute_command"),
    ("across: model instances built (Model.from_db)", "django.db.models:Model", "from_db"),
    ("across: ORM SQL compilation", "django.db.models.sql.compiler:SQLCompiler", "as_sql"),
]


def resolve(path: str):
    import importlib

    module, _, attribute = path.partition(":")
    found = importlib.import_module(module)
    return getattr(found, attribute) if attribute else found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visible", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--query", default="")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cold", action="store_true", help="count cache off")
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()

    env = server_env(setting("DATABASE_URL", DEFAULT_DATABASE))
    if args.cold:
        env["TASK_COUNT_CACHE"] = "0"
    # The request log goes where a server's stdout would: a file, not this terminal.
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (stdout stays on it until the end)
        prefix="tasklane-profile-", suffix=".log", delete=False
    )
    out = os.fdopen(os.dup(1), "w")
    os.dup2(log.fileno(), 1)
    os.chdir(ROOT)
    prepare_django(env)

    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django_structlog.middlewares import RequestMiddleware
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.scale_seed import bench_email
    from core.middleware import ApiErrorMiddleware

    token = str(AccessToken.for_user(User.objects.get(email=bench_email(args.visible))))
    application = get_wsgi_application()
    query = f"page_size={args.page_size}&page={args.page}" + (
        f"&{args.query}" if args.query else ""
    )

    def request() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/tasks/",
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        statuses = []
        body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
        assert statuses[0].startswith("200"), (statuses, body[:300])

    for _ in range(20):
        request()

    # Unwrapped first: the wrappers' own cost is the difference.
    started = time.perf_counter()
    for _ in range(args.requests):
        request()
    bare_ms = (time.perf_counter() - started) * 1000 / args.requests

    for label, owner, name in STEPS:
        if owner:
            timed(resolve(owner), name, label, classmethod_=name == "from_db")
    timed(RequestMiddleware, "__call__", "structlog")
    timed(ApiErrorMiddleware, "__call__", "inner")
    queries = 0

    def sql(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["across: SQL, sent and answered"] += time.perf_counter() - started

    spent.clear()
    with connection.execute_wrapper(sql):
        started = time.perf_counter()
        for _ in range(args.requests):
            request()
        whole = time.perf_counter() - started
    spent[STEPS[0][0]] = whole
    spent[STEPS[1][0]] = spent.pop("structlog") - spent["inner"]
    spent[STEPS[2][0]] = spent.pop("inner") - spent["  the view (DRF dispatch)"]

    print(
        f"GET /api/v1/tasks/?{query} as the user who sees {args.visible:,}, count cache "
        f"{'off' if args.cold else 'warm'}, {args.requests} requests in-process: "
        f"{bare_ms:.2f} ms each unwrapped, {whole * 1000 / args.requests:.2f} ms with the "
        f"timers below; {queries / args.requests:.0f} SQL statements per request.\n",
        file=out,
    )
    print("| step | ms per request |\n|---|---:|", file=out)
    for label, _, _ in STEPS:
        print(f"| {label} | {spent[label] * 1000 / args.requests:.2f} |", file=out)

    if args.top:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            request()
        profile.disable()
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(args.top)
        print(text.getvalue(), file=out)
    Path(log.name).unlink()


if __name__ == "__main__":
    main()
