"""Production start-up exactly as a platform runs it, from a fresh build.

1. Build: the files a clone has (tracked, or new and not ignored) are copied to a temporary
   directory; a fresh virtualenv on the Python of `.python-version` gets only the production
   requirements (`requirements.txt`, which is `requirements/prod.txt`; pip's cache is used);
   `collectstatic` runs. That is what Heroku's Python build and render.yaml's buildCommand do.
2. Release and start: an empty database and a private Redis; the Procfile's `release` line,
   then its `web` line exactly as written (run by bash, as the platforms do, with `$PORT`
   set) and its `worker` line when there is one. The settings are the documented production
   ones (docs/operations.md, "Deploy"): DEBUG off, a generated secret, SECURE_SSL_REDIRECT=1,
   the proxy trusted through FORWARDED_ALLOW_IPS; requests carry `X-Forwarded-Proto: https` as the
   platform's router sends them.
3. Checks: readiness; plain HTTP redirected and HSTS on HTTPS; `check --deploy` clean; the
   admin login page's stylesheets served hashed, compressed and cached for ever; register,
   log in, create a task, and a WebSocket receives its `task.created`; the JSON 404; then
   SIGTERM while writes are in flight: the processes stop within seconds, every acknowledged
   write is in the database, and nothing refused was written.

Run from the repository: `.venv/bin/python .ci/prod_smoke.py`. DATABASE_URL names the
database to create afresh (default tasklane_ci_prod on the local PostgreSQL); Redis is a
private redis-server on a free port. PROD_SMOKE_KEEP=1 keeps the build directory.
"""

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from mail_catcher import mailbox
from make_run import free_port, wait_until_live
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tasklane_ci_prod")
PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"
# What a platform's router adds to every request it forwards.
ROUTER_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
# uvicorn's --timeout-graceful-shutdown is 5 s; the platforms wait 30 s before SIGKILL.
WEB_STOPS_WITHIN = 10
WORKER_STOPS_WITHIN = 20
STARTED = time.monotonic()


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    print(f"ok  {message}", flush=True)


def step(title: str) -> None:
    print(f"\n--- {title} ({time.monotonic() - STARTED:.0f} s)", flush=True)


def request(method: str, path: str, body=None, token=None, headers=None, timeout=10):
    """(status, lower-cased headers, body bytes); the router's headers unless `headers`."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    for name, value in (ROUTER_HEADERS if headers is None else headers).items():
        req.add_header(name, value)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=timeout) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                (response.read()),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def copy_clone(destination: Path) -> None:
    """The files `git clone` would give (the working tree's versions of them)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():  # deleted but not yet committed: not in a clone either
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def python_of_the_pinned_version() -> str:
    version = (ROOT / ".python-version").read_text().strip()
    interpreter = shutil.which(f"python{version}")
    if interpreter is None:
        raise SystemExit(f"python{version} (from .python-version) is not on PATH")
    return interpreter


def run(command: list[str], *, cwd: Path, env: dict, what: str, timeout: int = 300) -> str:
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
    check(done.returncode == 0, f"{what} ({time.monotonic() - started:.1f} s)")
    return done.stdout + done.stderr


def fresh_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to recreate a database named {name!r}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def start_redis(log_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with (log_dir / "redis.log").open("wb") as log:
        server = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--save",
                "",
                "--bind",
                "127.0.0.1",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            if redis.Redis.from_url(url).ping():
                return server, url
        except redis.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the private redis-server did not start")


def start_process(command: str, *, cwd: Path, env: dict, log_path: Path) -> subprocess.Popen:
    """A Procfile line, run by bash as the platforms run it, in its own process group (a
    platform stops a dyno or instance by signalling every process in it)."""
    with log_path.open("w") as log:
        return subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def group_alive(group: int) -> bool:
    """Whether any process of the group is still running (zombies aside)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if fields[2] == str(group) and fields[0] != "Z":
            return True
    return False


def stop(process: subprocess.Popen, within: float) -> float:
    """SIGTERM to the process group, as a platform stops it; the seconds until every process
    of it has exited (after `within`, SIGKILL and infinity)."""
    started = time.monotonic()
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = started + within
    while process.poll() is None or group_alive(process.pid):
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return float("inf")
        time.sleep(0.05)
    return time.monotonic() - started


def stylesheets_are_hashed_compressed_and_cached_for_ever() -> None:
    status, headers, html = request("GET", "/admin/login/")
    check(status == 200 and headers["content-type"].startswith("text/html"), "admin login page")
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html.decode())
    check(bool(links), f"the admin login page links {len(links)} stylesheets")
    for link in links:
        check(
            re.fullmatch(r"/static/.+\.[0-9a-f]{12}\.css", link) is not None,
            f"{link} is a hashed static file",
        )
        status, headers, css = request(
            "GET", link, headers={**ROUTER_HEADERS, "Accept-Encoding": "gzip"}
        )
        check(
            status == 200 and headers["content-type"].startswith("text/css") and css,
            f"{link}: 200 text/css ({len(css)} bytes)",
        )
        cache_control = headers.get("cache-control", "")
        check(
            "max-age=315360000" in cache_control and "immutable" in cache_control,
            f"{link} is cached for ever ({cache_control})",
        )
        check(headers.get("content-encoding") == "gzip", f"{link} is served compressed")


def account() -> tuple[str, str]:
    """Registers and logs in someone new: (email, access token)."""
    email = f"prod-smoke-{time.time_ns()}@example.com"
    credentials = {"email": email, "password": "prod-smoke-passphrase-1"}
    status, _, body = request("POST", "/api/v1/auth/register/", credentials)
    check(status == 201, f"register: {status}")
    status, headers, body = request("POST", "/api/v1/auth/login/", credentials)
    check(status == 200 and headers.get("cache-control") == "no-store", "log in: 200, no-store")
    return email, json.loads(body)["access"]


async def receive_until(ws, wanted, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(
            await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
        )
        if wanted(message):
            return message


async def task_created_reaches_a_socket(token: str) -> None:
    async with connect(
        f"ws://127.0.0.1:{PORT}/ws/v1/events/?token={token}", additional_headers=ROUTER_HEADERS
    ) as ws:
        ready = await receive_until(ws, lambda m: True)
        check(ready["type"] == "connection.ready", "the WebSocket is ready")
        status, _, body = await asyncio.to_thread(
            request, "POST", "/api/v1/tasks/", {"title": "Deploy it"}, token
        )
        check(status == 201, "create a task: 201")
        task_id = json.loads(body)["id"]
        event = await receive_until(
            ws, lambda m: m["type"] == "task.created" and m["data"]["id"] == task_id
        )
        check(event["data"]["title"] == "Deploy it", "the WebSocket receives its task.created")


class Writer(threading.Thread):
    """Creates tasks one after another until the server stops answering."""

    def __init__(self, token: str, label: str):
        super().__init__(daemon=True)
        self.token = token
        self.label = label
        self.acknowledged: list[str] = []  # 201
        self.refused: list[tuple[str, int]] = []  # answered, not 201
        self.in_flight: list[str] = []  # the connection broke after the request was sent
        self.stopped_by = ""

    def run(self) -> None:
        for number in range(10_000):
            title = f"{self.label}-{number}"
            try:
                status, _, _ = request(
                    "POST", "/api/v1/tasks/", {"title": title}, self.token, timeout=15
                )
            except urllib.error.URLError as error:
                if isinstance(error.reason, ConnectionRefusedError):
                    self.stopped_by = "connection refused"
                    return
                self.in_flight.append(title)
                self.stopped_by = repr(error.reason)
                return
            except (ConnectionError, TimeoutError) as error:
                self.in_flight.append(title)
                self.stopped_by = repr(error)
                return
            if status == 201:
                self.acknowledged.append(title)
            else:
                self.refused.append((title, status))


class SlowWrite:
    """A create whose body is still arriving when SIGTERM comes: the server must finish it."""

    def __init__(self, token: str, title: str):
        self.title = title
        self.body = json.dumps({"title": title}).encode()
        self.connection = socket.create_connection(("127.0.0.1", PORT), timeout=15)
        head = (
            "POST /api/v1/tasks/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{PORT}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(self.body)}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "X-Forwarded-Proto: https\r\n"
            "Connection: close\r\n\r\n"
        )
        self.connection.sendall(head.encode() + self.body[:5])

    def finish(self) -> int:
        """Sends the rest of the body; the response's status."""
        with self.connection:
            self.connection.sendall(self.body[5:])
            response = b""
            while chunk := self.connection.recv(65536):
                response += chunk
        return int(response.split(b" ", 2)[1])


async def socket_close_code(ws, timeout: float) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def sigterm_with_writes_in_flight(
    web: subprocess.Popen, worker: subprocess.Popen | None, token: str, logs: Path
) -> None:
    stamp = time.time_ns()
    async with connect(f"ws://127.0.0.1:{PORT}/ws/v1/events/?token={token}") as ws:
        await receive_until(ws, lambda m: m["type"] == "connection.ready")
        slow = SlowWrite(token, f"shutdown-{stamp}-slow")
        writers = [Writer(token, f"shutdown-{stamp}-{n}") for n in range(4)]
        for writer in writers:
            writer.start()
        await asyncio.sleep(1.5)
        close_code = asyncio.ensure_future(socket_close_code(ws, WEB_STOPS_WITHIN))
        stopping = [asyncio.to_thread(stop, web, WEB_STOPS_WITHIN)]
        if worker is not None:
            stopping.append(asyncio.to_thread(stop, worker, WORKER_STOPS_WITHIN))
        stopping = asyncio.gather(*stopping)
        await asyncio.sleep(0.5)
        slow_status = await asyncio.to_thread(slow.finish)
        took = await stopping
        code = await close_code
    for writer in writers:
        writer.join(20)

    check(took[0] <= WEB_STOPS_WITHIN, f"SIGTERM stops the web process in {took[0]:.1f} s")
    # uvicorn finishes its shutdown, then re-raises the signal: exit status -SIGTERM.
    check(
        web.returncode in (0, -signal.SIGTERM)
        and "Finished server process" in (logs / "web.log").read_text(),
        f"the web process shuts down gracefully (exit status {web.returncode})",
    )
    if worker is not None:
        check(took[1] <= WORKER_STOPS_WITHIN, f"SIGTERM stops the worker in {took[1]:.1f} s")
    check(code == 1012, f"an open WebSocket is closed with 1012, service restart ({code})")

    acknowledged = [title for writer in writers for title in writer.acknowledged]
    refused = [title for writer in writers for title, _ in writer.refused]
    in_flight = [title for writer in writers for title in writer.in_flight]
    statuses = sorted({status for writer in writers for _, status in writer.refused})
    print(
        f"    writes: {len(acknowledged)} acknowledged, {len(refused)} refused {statuses}, "
        f"{len(in_flight)} cut off in flight; writers stopped by "
        f"{sorted({writer.stopped_by for writer in writers})}"
    )
    check(len(acknowledged) >= 4, "writes were flowing when SIGTERM came")
    check(
        slow_status == 201,
        f"a create whose body was still arriving at SIGTERM is completed ({slow_status})",
    )
    acknowledged.append(slow.title)
    check(all(status < 500 or status == 503 for status in statuses), "no server error")
    with psycopg.connect(DATABASE_URL) as connection:
        stored = [
            title
            for (title,) in connection.execute(
                "SELECT title FROM tasks_task WHERE title LIKE %s", (f"shutdown-{stamp}-%",)
            )
        ]
    check(len(stored) == len(set(stored)), "no write was stored twice")
    check(set(acknowledged) <= set(stored), "every acknowledged write is in the database")
    check(not set(refused) & set(stored), "no refused write is in the database")
    check(
        set(stored) <= set(acknowledged) | set(in_flight),
        f"the database holds only acknowledged or in-flight writes ({len(stored)} rows)",
    )


def main() -> int:
    # The production settings name a real SMTP server (check --deploy requires EMAIL_URL): the
    # mail catcher's, on loopback, so the worker's messages are delivered, not retried.
    with mailbox() as (email_settings, _):
        return smoke(email_settings)


def smoke(email_settings: dict[str, str]) -> int:
    processes = procfile()
    keep = os.environ.get("PROD_SMOKE_KEEP") == "1"
    build = Path(tempfile.mkdtemp(prefix="tasklane-prod-"))
    app, venv, logs = build / "app", build / "venv", build / "logs"
    logs.mkdir()
    redis_server = web = worker = None
    passed = False
    try:
        step("build: a clone's files, a fresh virtualenv with requirements.txt, collectstatic")
        copy_clone(app)
        run(
            [python_of_the_pinned_version(), "-m", "venv", str(venv)],
            cwd=app,
            env=os.environ,
            what="a fresh virtualenv",
        )
        run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "-r",
                "requirements.txt",
            ],
            cwd=app,
            env=os.environ,
            what="pip install -r requirements.txt (the production set only)",
        )
        redis_server, redis_url = start_redis(logs)
        fresh_database(DATABASE_URL)
        env = {
            "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            # docs/operations.md, "Deploy": the documented production settings.
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": redis_url,
            "SECURE_SSL_REDIRECT": "1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "HTTP_THREADS": "4",
            "DB_POOL_MAX_SIZE": "6",
            "PORT": str(PORT),
            **email_settings,
        }
        python = str(venv / "bin" / "python")
        run(
            [python, "manage.py", "collectstatic", "--noinput"],
            cwd=app,
            env=env,
            what="collectstatic",
        )

        step("release and start: the Procfile's lines as written")
        run(
            ["bash", "-c", processes["release"]],
            cwd=app,
            env=env,
            what=f"release: {processes['release']}",
        )
        print(f"    web: {processes['web'].replace('$PORT', str(PORT))}")
        web = start_process(processes["web"], cwd=app, env=env, log_path=logs / "web.log")
        if "worker" in processes:
            print(f"    worker: {processes['worker']}")
            worker = start_process(
                processes["worker"], cwd=app, env=env, log_path=logs / "worker.log"
            )
        else:
            # The Procfile has no worker line yet: nothing to start here.
            print("    worker: no `worker:` line in the Procfile, none started")
        wait_until_live(BASE, web, logs / "web.log")

        step("checks")
        status, _, body = request("GET", "/health/ready/")
        check(status == 200, f"/health/ready/ is 200: {body.decode()}")
        status, headers, _ = request("GET", "/api/v1/auth/me/", headers={})
        check(
            status == 301 and headers["location"].startswith("https://"),
            "plain HTTP is redirected to HTTPS",
        )
        status, headers, _ = request("GET", "/health/live/")
        check(
            headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains",
            "HTTPS responses carry HSTS",
        )
        report = run(
            [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=app,
            env=env,
            what="manage.py check --deploy --fail-level WARNING",
        )
        check("no issues" in report, f"check --deploy: {report.strip().splitlines()[-1]}")
        stylesheets_are_hashed_compressed_and_cached_for_ever()
        _, token = account()
        asyncio.run(task_created_reaches_a_socket(token))
        status, headers, body = request("GET", "/api/v1/no-such-thing/", token=token)
        check(
            status == 404
            and headers["content-type"] == "application/json"
            and json.loads(body)["type"] == "client_error",
            "an unknown URL gets the JSON 404",
        )
        if worker is not None:
            check(worker.poll() is None, "the worker is running")

        step("SIGTERM with writes in flight")
        asyncio.run(sigterm_with_writes_in_flight(web, worker, token, logs))
        check(token not in (logs / "web.log").read_text(), "no access token in the server log")
        passed = True
    finally:
        for process in (web, worker):
            if process is not None and process.poll() is None:
                stop(process, 5)
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
        if not passed:
            for log in sorted(logs.glob("*.log")):
                print(
                    f"\n--- {log.name} (last lines)\n"
                    + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
                )
        if keep or not passed:
            print(f"\nbuild and logs kept in {build}")
        else:
            shutil.rmtree(build, ignore_errors=True)
    print(f"\nproduction smoke test passed in {time.monotonic() - STARTED:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
