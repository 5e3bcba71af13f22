"""`make bench`: seed PostgreSQL at scale, serve Tasklane as the Procfile does, drive it with
wrk beside the floor (bench/floor.py), and write bench/RESULTS.md. How to read it: README.md.

Settings, all from the environment:
  BENCH_SCALE        tiny | medium | full (default full: 1M tasks, 1,000 users, 2,000 projects)
  BENCH_DURATION     seconds per measurement (default 10; tiny 2)
  BENCH_WARMUP       seconds of warm-up before each measurement (default 2; tiny 1)
  BENCH_CONCURRENCY  wrk connections, space-separated (default "1 16 64")
  BENCH_RESULTS      where to write the results (default bench/RESULTS.md)
  BENCH_SEED         0 to reuse the database as it is instead of seeding it again
  DATABASE_URL       default postgres://postgres@127.0.0.1:5432/tasklane_bench (created if
                     missing; a database whose name contains "bench" is emptied and reseeded,
                     any other must be empty)
  REDIS_URL          default redis://127.0.0.1:6379/3
  WEB_CONCURRENCY    uvicorn worker processes, as in production (default 1)

Last, "by table size": a second database, <name>_small, holds only the main bench user's tasks;
a Tasklane server on it and the first one serve that user's lists back to back.
"""

import contextlib
import copy
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import free_port, procfile_command, rss_kib, seed

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
WRK_SCRIPT = ROOT / "bench" / "wrk" / "request.lua"
FLOOR_APP = "bench.floor:application"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/tasklane_bench"
BENCH_SECRET = "bench-secret-key-0123456789abcdef0123456789abcdefghijklmn"
PAGE_SIZE = 50
COLD, WARM = "cold", "warm"  # the count cache off, and on (measured beside it)
BIG, SMALL = "big table", "small table"  # the main user on the main database, and on one
SMALL_ALIAS = "small"  # holding only their tasks (Django's alias for it in this process)

# Bench users are named by how many tasks they see; `main` is the one every case runs for.
SCALES = {
    "tiny": {
        "tasks": 10_000,
        "users": 10,
        "projects": 20,
        "bench": [10, 100, 1_000],
        "main": 1_000,
    },
    "medium": {
        "tasks": 100_000,
        "users": 100,
        "projects": 200,
        "bench": [1_000, 10_000, 50_000],
        "main": 10_000,
    },
    "full": {
        "tasks": 1_000_000,
        "users": 1_000,
        "projects": 2_000,
        "bench": [1_000, 10_000, 100_000],
        "main": 10_000,
    },
}


@dataclass
class Case:
    name: str
    path: str = ""
    method: str = "GET"
    body: str = ""
    paths: list[str] = field(default_factory=list)  # requested in turn, instead of `path`
    token: bool = True
    floor: bool = False  # the floor serves it too


@dataclass
class Measure:
    case: str
    server: str
    connections: int
    visible: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def setting(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def list_cases(data: dict) -> list[Case]:
    search_word, labels, project_id = data["search_word"], data["label_ids"], data["project_id"]
    queries = [
        ("list", ""),
        (
            "list status=pending&due=overdue&ordering=due_date",
            "status=pending&due=overdue&ordering=due_date",
        ),
        ("list assignee=me", "assignee=me"),
        (f"list search={search_word}", f"search={search_word}"),
        ("list ordering=status", "ordering=status"),
        ("list label=bug", "label=" + ",".join(map(str, labels))),
        ("list ordering=-priority", "ordering=-priority"),
        ("list project=P&ordering=position", f"project={project_id}&ordering=position"),
    ]
    return [
        Case(
            name,
            f"/api/v1/tasks/?page_size={PAGE_SIZE}" + (f"&{query}" if query else ""),
            floor=True,
        )
        for name, query in queries
    ]


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    say("wrk is missing; installing the Debian package")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def ensure_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            say(f"creating database {name}")
            connection.execute(f'CREATE DATABASE "{name}"')


def server_env(database_url: str) -> dict:
    """What the Procfile's process gets in production, for this machine."""
    return {
        **os.environ,
        "DJANGO_ENV_FILE": "",  # a developer's .env must not change what is measured
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or BENCH_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": setting("REDIS_URL", "redis://127.0.0.1:6379/3"),
        # wrk sends thousands of requests a second as one user: throttles would answer 429.
        "THROTTLE_LOGIN": "off",
        "THROTTLE_REGISTER": "off",
        "THROTTLE_USER": "off",
        # Tokens are made once, before a run that may last longer than 15 minutes.
        "ACCESS_TOKEN_LIFETIME": "86400",
    }


def manage(env: dict, *args: str) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True)


class Server:
    def __init__(
        self,
        name: str,
        env: dict,
        log_dir: Path,
        app: str | None = None,
        command: list[str] | None = None,  # "{port}" filled in; default the Procfile's
    ):
        self.name = name
        self.port = free_port()
        self.command = (
            [word.replace("{port}", str(self.port)) for word in command]
            if command
            else procfile_command(self.port, app=app)
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env={**env, "PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for _ in range(300):
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} server exited; see {self.log}")
            try:
                urllib.request.urlopen(self.base + "/health/live/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} server did not answer within 30 s; see {self.log}")

    def processes(self) -> list[int]:
        """The server and its workers (WEB_CONCURRENCY > 1), by pid."""
        pids, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            pids.append(pid)
            with contextlib.suppress(OSError):  # gone already
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                queue += [int(child) for child in children]
        return pids

    def stop(self) -> float:
        """SIGTERM, as a platform stops it; the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - started


def wrk(url: str, case: Case, token: str, connections: int, seconds: int) -> dict:
    env = {
        **os.environ,
        "WRK_METHOD": case.method,
        "WRK_TOKEN": token if case.token else "",
        "WRK_BODY": case.body,
        "WRK_PATHS": " ".join(case.paths),
    }
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            url + (case.path or (case.paths[0] if case.paths else "/")),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON "))


def measure(
    server: Server, case: Case, token: str, connections: int, visible: int, timing
) -> Measure:
    seconds, warmup = timing
    if warmup:
        wrk(server.base, case, token, connections, warmup)
    result = wrk(server.base, case, token, connections, seconds)
    measured = Measure(
        case=case.name,
        server=server.name,
        connections=connections,
        visible=visible,
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        requests=result["requests"],
        non_2xx=result["non_2xx"],
        socket_errors=sum(result[k] for k in ("connect", "read", "write", "timeout")),
    )
    say(
        f"{server.name:8} {case.name[:52]:52} sees {visible:>7,} c={connections:<3} "
        f"{measured.rps:8.1f} req/s  p50 {measured.p50_ms:7.1f} ms  p99 {measured.p99_ms:7.1f} ms"
        + (f"  NON-2XX {measured.non_2xx}" if measured.non_2xx else "")
    )
    return measured


def get_json(url: str, token: str) -> tuple[dict, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read()), dict(response.headers)


def without_host(page: dict) -> dict:
    """Page links name the server's own port; compare their path and query only."""

    def strip(link):
        return None if link is None else urlunsplit(urlsplit(link)._replace(scheme="", netloc=""))

    return {**page, "next": strip(page["next"]), "previous": strip(page["previous"])}


def check_floor(tasklane: Server, floor: Server, case: Case, token: str) -> int:
    """The floor must answer exactly what Tasklane answers; returns its query count."""
    expected, _ = get_json(tasklane.base + case.path, token)
    actual, headers = get_json(floor.base + case.path, token)
    if without_host(expected) != without_host(actual):
        for key in ("count", "next", "previous"):
            if without_host(expected)[key] != without_host(actual)[key]:
                say(f"{key}: Tasklane {expected[key]!r}, floor {actual[key]!r}")
        for index, (mine, theirs) in enumerate(
            zip(expected["results"], actual["results"], strict=False)
        ):
            if mine != theirs:
                say(f"results[{index}]: Tasklane {mine}\n        floor {theirs}")
                break
        raise SystemExit(
            f"The floor's answer to {case.path} differs from Tasklane's: bench/floor.py must "
            "give the same JSON (update it with the product)."
        )
    return int(headers.get("x-queries", 0))


def post_json(url: str, token: str, body: str) -> tuple[dict, dict]:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read()), dict(response.headers)


def check_floor_reorder(tasklane: Server, floor: Server, case: Case, token: str) -> int:
    """The floor's reorder must do what Tasklane's does; returns its query count. Tasklane
    puts the task right after the anchor, then the floor does the same again: the task must
    still come right after the anchor, with a new key (tasks.services.task_reorder's rule:
    "a new key all the same"), and the rest of it must read as Tasklane's answer does."""
    from bench import floor as floor_app
    from tasks.models import Task
    from tasks.ordering import REBALANCE_LENGTH

    if floor_app.REBALANCE_LENGTH != REBALANCE_LENGTH:
        raise SystemExit("bench/floor.py's REBALANCE_LENGTH differs from tasks/ordering.py's.")
    path = case.paths[0]
    anchor = Task.objects.get(pk=json.loads(case.body)["after_id"])
    expected, _ = post_json(tasklane.base + path, token, case.body)
    actual, headers = post_json(floor.base + path, token, case.body)
    following = (
        Task.objects.filter(project_id=anchor.project_id, position__gt=anchor.position)
        .order_by("position")
        .values_list("pk", "position")
        .first()
    )
    moving = ("position", "updated_at")
    if (
        {k: v for k, v in expected.items() if k not in moving}
        != {k: v for k, v in actual.items() if k not in moving}
        or following != (actual["id"], actual["position"])
        or actual["position"] == expected["position"]
    ):
        say(f"Tasklane {expected}\n        floor {actual}\n        after the anchor {following}")
        raise SystemExit(
            f"The floor's answer to POST {path} differs from Tasklane's: bench/floor.py must "
            "reorder as Tasklane does (update it with the product)."
        )
    return int(headers.get("x-queries", 0))


def prepare_django(env: dict):
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_data(scale: dict) -> dict:
    """Tokens, ids and the search word, from the seeded database."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.scale_seed import LABEL_WORD, SEARCH_WORD, bench_email
    from projects.models import Membership, Project
    from tasks import selectors
    from tasks.models import Label, Task

    users = {n: User.objects.get(email=bench_email(n)) for n in scale["bench"]}
    main = users[scale["main"]]
    task_ids = list(selectors.tasks_for(main).order_by("id").values_list("id", flat=True)[:64])
    project = Project.objects.filter(memberships__user=main, is_inbox=False).order_by("id").first()
    # Reorders in that project: each request puts one of its tasks right after the first,
    # the spot where keys grow fastest (so the bench pays for any respacing too).
    in_project = list(
        Task.objects.filter(project=project).order_by("id").values_list("id", flat=True)[:65]
    )
    labels = Label.objects.filter(project__memberships__user=main, name=LABEL_WORD)
    # Comments go on the project's first task, each mentioning another of its members.
    mentioned = (
        Membership.objects.filter(project=project).exclude(user=main).order_by("user_id").first()
    )
    return {
        "tokens": {n: str(AccessToken.for_user(user)) for n, user in users.items()},
        "task_ids": task_ids,
        "project_id": project.id,
        "search_word": SEARCH_WORD,
        "label_ids": sorted(labels.values_list("id", flat=True)),
        "reorder_anchor": in_project[0],
        "reordered_ids": in_project[1:],
        "comment_task": in_project[0],
        "mention_id": mentioned.user_id,
    }


def count_queries(case: Case, token: str) -> int:
    """SQL statements one request runs, counted in-process through Django's test client
    (the same middleware and views; the second of two requests, so nothing is cold), without
    transaction control (BEGIN, COMMIT, savepoints), which the floor does not count either."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    path = case.path or case.paths[0]
    body = case.body.replace("{n}", "0")

    def send():
        if case.method == "GET":
            return client.get(path)
        call = client.post if case.method == "POST" else client.patch
        return call(path, data=body, content_type="application/json")

    send()
    with CaptureQueriesContext(connection) as queries:
        response = send()
    if response.status_code >= 300:
        raise SystemExit(
            f"{case.method} {path} answered {response.status_code}: {response.content[:300]!r}"
        )
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return sum(1 for query in queries if not query["sql"].startswith(control))


def versions(env: dict) -> dict:
    import django
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[
        0
    ]
    return {
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "PostgreSQL": postgres,
        "uvicorn": metadata.version("uvicorn"),
        "psycopg": psycopg.__version__,
        "wrk": wrk_version.split(" [")[0].removeprefix("wrk "),
    }


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    memory = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return {
        "nproc": str(os.cpu_count()),
        "CPU": model.group(1).strip() if model else platform.processor() or "?",
        "memory": f"{int(memory.group(1)) / 1024 / 1024:.1f} GiB" if memory else "?",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def small_database_url(url: str) -> str:
    """The main database's name with `_small` (and `bench`, so that it can be reset)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    small = f"{name}_small" if "bench" in name else f"{name}_bench_small"
    if len(small) > 63:
        raise SystemExit(f"{small!r} is longer than PostgreSQL's 63 characters for a name.")
    return urlunsplit(parts._replace(path="/" + small))


def by_table_size(
    scale: dict,
    cases: list[Case],
    tasklane: Server,
    token: str,
    concurrency: list[int],
    timing: tuple[int, int],
    log_dir: Path,
    servers: list[Server],
    measures: list[Measure],
) -> dict:
    """The main user's lists with the whole main table around them, and on a database whose
    task table holds only their tasks (seeded as the main one is, with them as the only bench
    user and no other tasks), on a second server started as the first. Each figure on the
    small table is measured right after the same one on the big table."""
    from django.db import connections
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.scale_seed import bench_email
    from projects.models import Membership
    from tasks.models import Task

    started = time.monotonic()
    url = small_database_url(setting("DATABASE_URL", DEFAULT_DATABASE))
    name = urlsplit(url).path.lstrip("/")
    env = server_env(url)
    say(f"by table size: seeding {name} with the {scale['main']:,} tasks the main user sees")
    ensure_database(url)
    manage(env, "migrate", "--noinput", "-v0")
    # As many users and shared projects as the main database; the only tasks are the bench
    # user's, split over their projects as on the main one (ScaleSpec.bench_projects). Its
    # list counts start afresh in the shared Redis (the seeder bumps every project's version);
    # the warm-up before each figure caches them again on both servers.
    seed(
        env,
        f"--tasks={scale['main']}",
        f"--users={scale['users']}",
        f"--projects={scale['projects']}",
        f"--bench-users={scale['main']}",
        "--reset",
    )
    connections.settings[SMALL_ALIAS] = {
        **copy.deepcopy(connections.settings["default"]),
        "NAME": name,
    }
    email = bench_email(scale["main"])
    try:
        user = User.objects.using(SMALL_ALIAS).get(email=email)
        small_token = str(AccessToken.for_user(user))
        tasks = {
            BIG: Task.objects.count(),
            SMALL: Task.objects.using(SMALL_ALIAS).count(),
        }
        projects = {
            alias: set(
                Membership.objects.using(alias)
                .filter(user__email=email)
                .values_list("project_id", flat=True)
            )
            for alias in ("default", SMALL_ALIAS)
        }
    finally:
        connections[SMALL_ALIAS].close()
        connections[SMALL_ALIAS].close_pool()
        connections["default"].close()
    if tasks[SMALL] != scale["main"]:
        raise SystemExit(f"{name} holds {tasks[SMALL]:,} tasks, not {scale['main']:,}.")
    # Both servers share Redis: a count cached for one database is reachable from the other
    # only for the very same project ids (tasks/counts.py keys), which must not happen.
    if projects["default"] == projects[SMALL_ALIAS]:
        raise SystemExit("The main user has the same project ids in both databases.")

    small = Server("small", env, log_dir)
    servers.append(small)
    counts = {}
    for case in cases:
        for server, key, bearer in ((tasklane, BIG, token), (small, SMALL, small_token)):
            counts[(case.name, key)] = get_json(server.base + case.path, bearer)[0]["count"]
    if counts[(cases[0].name, SMALL)] != tasks[SMALL]:
        raise SystemExit(
            f"On {name} the main user sees {counts[(cases[0].name, SMALL)]:,} tasks, "
            f"not all {tasks[SMALL]:,} of the table."
        )
    # Half the main phases' duration per figure: this phase should cost about a minute.
    size_timing = (max(1, timing[0] // 2), timing[1])
    size_concurrency = [c for c in (1, 16) if c in concurrency] or [min(concurrency)]
    say(f"by table size: {tasks[BIG]:,} tasks against {tasks[SMALL]:,}")
    for case in cases:
        for connections_ in size_concurrency:
            big = measure(tasklane, case, token, connections_, scale["main"], size_timing)
            measures.append(replace(big, server=BIG))
            other = measure(small, case, small_token, connections_, scale["main"], size_timing)
            measures.append(replace(other, server=SMALL))
    return {
        "database": name,
        "tasks": tasks,
        "counts": counts,
        "timing": size_timing,
        "seconds": time.monotonic() - started,
    }


def main() -> None:
    scale_name = setting("BENCH_SCALE", "full")
    if scale_name not in SCALES:
        raise SystemExit(f"BENCH_SCALE must be one of {', '.join(SCALES)}, not {scale_name!r}.")
    scale = SCALES[scale_name]
    tiny = scale_name == "tiny"
    timing = (
        int(setting("BENCH_DURATION", "2" if tiny else "10")),
        int(setting("BENCH_WARMUP", "1" if tiny else "2")),
    )
    concurrency = [int(c) for c in setting("BENCH_CONCURRENCY", "1 16 64").split()]
    results_path = Path(setting("BENCH_RESULTS", str(ROOT / "bench" / "RESULTS.md")))
    database_url = setting("DATABASE_URL", DEFAULT_DATABASE)
    env = server_env(database_url)
    started = time.monotonic()

    ensure_wrk()
    ensure_database(database_url)
    manage(env, "migrate", "--noinput", "-v0")
    seed_seconds = None
    if setting("BENCH_SEED", "1") != "0":
        say(f"seeding at scale {scale_name}")
        reset = ["--reset"] if "bench" in urlsplit(database_url).path else []
        seed_started = time.monotonic()
        seed(
            env,
            f"--tasks={scale['tasks']}",
            f"--users={scale['users']}",
            f"--projects={scale['projects']}",
            "--bench-users=" + ",".join(map(str, scale["bench"])),
            *reset,
        )
        seed_seconds = time.monotonic() - seed_started

    prepare_django(env)
    data = bench_data(scale)
    main_token = data["tokens"][scale["main"]]
    lists = list_cases(data)
    ids = data["task_ids"]
    cases = [
        *lists,
        Case("detail", paths=[f"/api/v1/tasks/{i}/" for i in ids]),
        Case(
            "create",
            "/api/v1/tasks/",
            "POST",
            '{"title":"bench task {n}","project_id":' + str(data["project_id"]) + "}",
        ),
        Case(
            "PATCH",
            method="PATCH",
            body='{"title":"bench edit {n}"}',
            paths=[f"/api/v1/tasks/{i}/" for i in ids],
        ),
        Case(
            "reorder",
            method="POST",
            body='{"after_id":' + str(data["reorder_anchor"]) + "}",
            paths=[f"/api/v1/tasks/{i}/reorder/" for i in data["reordered_ids"]],
            floor=True,
        ),
        Case(
            "comment with a mention",
            f"/api/v1/tasks/{data['comment_task']}/comments/",
            "POST",
            '{"body":"bench comment {n}","mention_ids":[' + str(data["mention_id"]) + "]}",
        ),
        Case("notifications unread", f"/api/v1/notifications/?unread=true&page_size={PAGE_SIZE}"),
        Case("/health/live/ (no database)", "/health/live/", token=False),
    ]
    queries = {case.name: count_queries(case, main_token) for case in cases}
    info = {"machine": machine(), "versions": versions(env)}
    from django.db import connections

    connections.close_all()

    log_dir = Path(tempfile.mkdtemp(prefix="tasklane-bench-"))
    servers: list[Server] = []
    measures: list[Measure] = []
    try:
        tasklane = Server("tasklane", env, log_dir)
        servers.append(tasklane)
        floor = Server("floor", env, log_dir, app=FLOOR_APP)
        servers.append(floor)
        floor_queries = {
            case.name: check_floor(tasklane, floor, case, main_token) for case in lists
        }
        reorder = next(case for case in cases if case.name == "reorder")
        floor_queries[reorder.name] = check_floor_reorder(tasklane, floor, reorder, main_token)
        for token in data["tokens"].values():
            for case in lists[:2]:
                check_floor(tasklane, floor, case, token)
        say(f"the floor answers as Tasklane does; measuring {timing[0]} s after {timing[1]} s")
        for case in cases:
            for connections_ in concurrency:
                measures.append(
                    measure(tasklane, case, main_token, connections_, scale["main"], timing)
                )
                if case.floor:
                    measures.append(
                        measure(floor, case, main_token, connections_, scale["main"], timing)
                    )
        scaling_c = 16 if 16 in concurrency else max(concurrency)
        for visible, token in data["tokens"].items():
            if visible == scale["main"]:
                continue
            for case in lists[:2]:
                measures.append(measure(tasklane, case, token, scaling_c, visible, timing))
                measures.append(measure(floor, case, token, scaling_c, visible, timing))
        # Cold counts: a second Tasklane with the count cache off pays the count on every
        # request, as the first list after a write does. Each is measured right after the
        # same request on the warm server, so that both see the machine in the same state.
        cold = Server(COLD, {**env, "TASK_COUNT_CACHE": "0"}, log_dir)
        servers.append(cold)
        for visible, token in data["tokens"].items():
            if visible < scale["main"]:
                continue
            for case in lists[:2]:
                warm = measure(tasklane, case, token, scaling_c, visible, timing)
                measures.append(replace(warm, server=WARM))
                measures.append(measure(cold, case, token, scaling_c, visible, timing))
        by_size = by_table_size(
            scale, lists[:2], tasklane, main_token, concurrency, timing, log_dir, servers, measures
        )
        memory = {
            server.name: [(pid, rss_kib(pid), peak_kib(pid)) for pid in server.processes()]
            for server in (tasklane, floor)
        }
    finally:
        stopped = {server.name: server.stop() for server in servers}
    bad = [m for m in measures if m.non_2xx]
    report = render_results(
        scale_name=scale_name,
        scale=scale,
        timing=timing,
        concurrency=concurrency,
        info=info,
        measures=measures,
        queries=queries,
        floor_queries=floor_queries,
        memory=memory,
        stopped=stopped,
        by_size=by_size,
        seed_seconds=seed_seconds,
        command=" ".join(procfile_command("$PORT")).replace(str(VENV_BIN) + "/", ""),
        total_seconds=time.monotonic() - started,
    )
    results_path.write_text(report)
    say(f"wrote {results_path} in {time.monotonic() - started:.0f} s")
    if bad:
        raise SystemExit(f"{len(bad)} measurements had non-2xx answers: see {log_dir}")
    shutil.rmtree(log_dir)


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def by_size_section(size: dict, measures: list[Measure], scale: dict) -> list[str]:
    """RESULTS.md's "By table size": the main user's lists, big table against small."""
    by_key = {(m.server, m.case, m.connections): m for m in measures if m.server in (BIG, SMALL)}
    tasks = size["tasks"]
    lines = [
        "",
        "## By table size",
        "",
        f"The user who sees {scale['main']:,} tasks, on the main database (*big*: "
        f"{tasks[BIG]:,} tasks in the table, other projects' tasks older and newer than theirs) "
        f"and on `{size['database']}` (*small*: {tasks[SMALL]:,} tasks, all of them theirs, over "
        "as many projects, beside as many regular users and shared projects), each on its own "
        "Tasklane server started as the first, the small table's figure measured right after "
        f"the big one's. wrk for {size['timing'][0]} s after a {size['timing'][1]} s warm-up; the "
        f"phase took {size['seconds']:.0f} s, seeding included. *count*: the list's count on "
        "each (the big table's includes tasks this run's `create` case added). Target: p50 on "
        "the big table within 1.5x of p50 on the small one.",
        "",
        "| case | c | count big / small | big req/s | big p50 | big p99 | small req/s | "
        "small p50 | small p99 | p50 big / small | within 1.5x |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for case in dict.fromkeys(m.case for m in measures if m.server == BIG):
        for c in sorted({m.connections for m in measures if m.server == BIG}):
            big, small = by_key.get((BIG, case, c)), by_key.get((SMALL, case, c))
            if not (big and small):
                continue
            ratio = big.p50_ms / small.p50_ms if small.p50_ms else float("inf")
            lines.append(
                f"| {case} | {c} | {size['counts'][(case, BIG)]:,} / "
                f"{size['counts'][(case, SMALL)]:,} | {big.rps:,.1f} | {big.p50_ms:.1f} | "
                f"{big.p99_ms:.1f} | {small.rps:,.1f} | {small.p50_ms:.1f} | "
                f"{small.p99_ms:.1f} | {ratio:.2f} | {'yes' if ratio <= 1.5 else 'no'} |"
            )
    return lines


def render_results(**r) -> str:
    """RESULTS.md: what ran where, then the tables; README.md says how to read them."""
    scale, measures = r["scale"], r["measures"]
    by_key = {(m.server, m.case, m.connections, m.visible): m for m in measures}
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. How to run it and "
        "how to read this: [README.md](README.md).",
        "",
        f"**Scale: {r['scale_name']}** — {scale['tasks']:,} tasks, "
        f"{scale['users'] + len(scale['bench']):,} users, {scale['projects']:,} shared projects; "
        f"bench users who see {', '.join(f'{n:,}' for n in scale['bench'])} tasks, other "
        f"projects' tasks older and newer than theirs. Every case runs as the user who sees "
        f"{scale['main']:,}; page_size={PAGE_SIZE}."
        + (
            " Tiny data and short runs: checks that the harness works, not how fast anything is."
            if r["scale_name"] == "tiny"
            else ""
        ),
        "",
        f"Each figure: wrk for {r['timing'][0]} s after a {r['timing'][1]} s warm-up, "
        f"connections {', '.join(map(str, r['concurrency']))}. "
        f"Whole run {r['total_seconds'] / 60:.1f} min"
        + (
            f"; seeding took {r['seed_seconds']:.0f} s."
            if r["seed_seconds"]
            else "; data reused (BENCH_SEED=0)."
        ),
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in {**r["info"]["machine"], **r["info"]["versions"]}.items()),
        f"| server | `{r['command']}` |",
        f"| WEB_CONCURRENCY | {os.environ.get('WEB_CONCURRENCY') or '1 (unset)'} |",
        "",
        f"## Every case, user who sees {scale['main']:,} tasks",
        "",
        "Latencies in ms. *floor*: bench/floor.py, the same page (or reorder) from hand-written "
        "SQL on the same server binary and flags; *ratio*: Tasklane's req/s over the floor's "
        "(1.0 = as fast as the hand-written SQL). *queries*: SQL statements per request, "
        "Tasklane / floor.",
        "",
        "| case | c | req/s | p50 | p99 | floor req/s | floor p50 | floor p99 | ratio | queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cases = list(dict.fromkeys(m.case for m in measures if m.visible == scale["main"]))
    for case in cases:
        for c in r["concurrency"]:
            mine = by_key.get(("tasklane", case, c, scale["main"]))
            theirs = by_key.get(("floor", case, c, scale["main"]))
            if mine is None:
                continue
            floor_cells = (
                [
                    f"{theirs.rps:,.1f}",
                    f"{theirs.p50_ms:.1f}",
                    f"{theirs.p99_ms:.1f}",
                    f"{mine.rps / theirs.rps:.2f}",
                ]
                if theirs
                else ["", "", "", ""]
            )
            count = r["queries"].get(case)
            floor_count = r["floor_queries"].get(case)
            query_cell = (
                ""
                if count is None
                else f"{count}" + (f" / {floor_count}" if floor_count is not None else "")
            )
            flag = f" ({mine.non_2xx} non-2xx)" if mine.non_2xx else ""
            lines.append(
                f"| {case}{flag} | {c} | {mine.rps:,.1f} | {mine.p50_ms:.1f} | {mine.p99_ms:.1f} | "
                + " | ".join(floor_cells)
                + f" | {query_cell} |"
            )
    scaling = sorted(
        {m.connections for m in measures if m.visible != scale["main"] and m.server == "tasklane"}
    )
    if scaling:
        c = scaling[0]
        lines += [
            "",
            f"## By how many tasks the user sees (c={c})",
            "",
            "| case | user sees | req/s | p50 | p99 | floor req/s | floor p50 | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for case in dict.fromkeys(m.case for m in measures if m.visible != scale["main"]):
            for visible in scale["bench"]:
                mine = by_key.get(("tasklane", case, c, visible))
                theirs = by_key.get(("floor", case, c, visible))
                if mine and theirs:
                    lines.append(
                        f"| {case} | {visible:,} | {mine.rps:,.1f} | {mine.p50_ms:.1f} | "
                        f"{mine.p99_ms:.1f} | {theirs.rps:,.1f} | {theirs.p50_ms:.1f} | "
                        f"{mine.rps / theirs.rps:.2f} |"
                    )
    cold = [m for m in measures if m.server == COLD]
    if cold:
        lines += [
            "",
            f"## Count cache cold and warm (c={cold[0].connections})",
            "",
            "*cold*: a second Tasklane server with `TASK_COUNT_CACHE=0`, which counts on every "
            "request, as the first list after a write to one of the caller's projects does; "
            "*warm*: the same request on the first server just before, its count from the "
            "cache. The floor counts on every request, so *cold / floor* compares like with "
            "like.",
            "",
            "| case | user sees | cold req/s | cold p50 | cold p99 | warm req/s | warm p50 | "
            "warm p99 | cold / warm | cold / floor |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in cold:
            warm = by_key.get((WARM, m.case, m.connections, m.visible))
            theirs = by_key.get(("floor", m.case, m.connections, m.visible))
            if warm and theirs:
                lines.append(
                    f"| {m.case} | {m.visible:,} | {m.rps:,.1f} | {m.p50_ms:.1f} | "
                    f"{m.p99_ms:.1f} | {warm.rps:,.1f} | {warm.p50_ms:.1f} | {warm.p99_ms:.1f} | "
                    f"{m.rps / warm.rps:.2f} | {m.rps / theirs.rps:.2f} |"
                )
    lines += by_size_section(r["by_size"], measures, scale)
    lines += [
        "",
        "## Memory after the run",
        "",
        "VmRSS (and its peak, VmHWM) of each server process from /proc/<pid>/status, after every "
        "measurement above; how long each took to exit on SIGTERM.",
        "",
        "| server | pid | RSS MiB | peak MiB | stopped in |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, processes in r["memory"].items():
        for pid, rss, peak in processes:
            lines.append(
                f"| {name} | {pid} | {rss / 1024:.0f} | {peak / 1024:.0f} | "
                f"{r['stopped'][name]:.1f} s |"
            )
    lines += key_lengths_section()
    lines.append("")
    return "\n".join(lines)


def key_lengths_section() -> list[str]:
    """RESULTS.md's "Manual order keys": bench/keys.py's figures, computed now."""
    from bench import keys
    from tasks.ordering import REBALANCE_LENGTH

    runs = {tasks: keys.random_reorders(tasks=tasks) for tasks in (20, 200, 2000)}
    worst = min(keys.same_gap_reorders(alternate=alternate) for alternate in (False, True))
    return [
        "",
        "## Manual order keys",
        "",
        "Not a wrk run: the keys `POST tasks/{id}/reorder/` chooses (tasks/ordering.py), computed "
        "in-process by bench/keys.py. Longest key ever chosen over 10,000 random reorders (a "
        "random task moved to a random place), and the respacings they caused:",
        "",
        "| tasks in the project | longest key | respacings |",
        "|---:|---:|---:|",
        *(f"| {tasks:,} | {longest} | {n} |" for tasks, (longest, n) in runs.items()),
        "",
        f"The worst case, every reorder into the same gap (always before the same task, or on "
        f"either side of the last one in turn), first needs a respacing (a key longer than "
        f"`REBALANCE_LENGTH`, {REBALANCE_LENGTH} characters) at reorder {worst:,}: no other "
        f"task's position changes more often than once per thousand reorders.",
    ]


if __name__ == "__main__":
    main()
