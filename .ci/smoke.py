"""Smoke test of the real server process, as a user meets it.

Starts `make run` (DEBUG off, PostgreSQL and Redis from the environment), then checks the
docs pages and every script and stylesheet they load, the health checks, an account's first
steps, the JSON 404, runs the Postman collection with newman (when NEWMAN names it; again in
the webhook session, under the webhook development settings of docs/webhooks.md), drives
Swagger UI and then the admin in headless Chromium (when PLAYWRIGHT_NODE_PATH is set: an
operator edits a task and removes a member, and the API shows the rules applied and the
operator as the actor), and checks that SIGTERM stops the server promptly.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mail_catcher import mailbox
from make_run import free_port, start, wait_until_live

ROOT = Path(__file__).resolve().parent.parent


PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"


def request(method: str, path: str, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    print(f"ok  {message}")


def account(label: str, stamp: int) -> dict:
    """A registered, logged-in user: email, id and access token."""
    email = f"{label}-{stamp}@example.com"
    credentials = {"email": email, "password": f"{label}-passphrase-1"}
    status, _, body = request("POST", "/api/v1/auth/register/", credentials)
    check(status == 201, f"{label} registers: {body!r}")
    status, _, body = request("POST", "/api/v1/auth/login/", credentials)
    access = json.loads(body)["access"]
    status, _, body = request("GET", "/api/v1/auth/me/", token=access)
    return {"email": email, "id": json.loads(body)["id"], "token": access}


def admin_walk_through(env: dict, node_path: str) -> None:
    """An operator edits a task and removes a member in the admin, in headless Chromium; the
    API then shows the rules applied and the operator as the actor of the activity."""
    started = time.monotonic()
    stamp = time.time_ns()
    operator = {"email": f"operator-{stamp}@example.com", "password": "operator-passphrase-1"}
    made = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "createsuperuser", "--noinput"],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SUPERUSER_EMAIL": operator["email"],
            "DJANGO_SUPERUSER_PASSWORD": operator["password"],
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    check(made.returncode == 0, f"manage.py createsuperuser makes the operator {made.stderr}")
    owner, member, stranger = (account(label, stamp) for label in ("owner", "member", "stranger"))
    status, _, body = request(
        "POST", "/api/v1/projects/", {"name": f"Admin walk-through {stamp}"}, owner["token"]
    )
    check(status == 201, "the owner creates a project")
    project_id = json.loads(body)["id"]
    members = f"/api/v1/projects/{project_id}/members/"
    status, _, _ = request("POST", members, {"email": member["email"]}, owner["token"])
    check(status == 201, "the owner adds a member")
    status, _, body = request(
        "POST",
        "/api/v1/tasks/",
        {"title": "Draft the post", "project_id": project_id, "assignee_id": member["id"]},
        owner["token"],
    )
    check(status == 201, "the owner creates a task assigned to the member")
    task_id = json.loads(body)["id"]

    title = f"Publish the post {stamp}"
    given = {
        **operator,
        "taskId": task_id,
        "title": title,
        "member": member["email"],
        "stranger": stranger["email"],
    }
    run = subprocess.run(
        ["node", str(ROOT / ".ci" / "admin_ui.cjs"), BASE, json.dumps(given)],
        cwd=ROOT,
        env={**os.environ, "NODE_PATH": node_path},
        timeout=120,
    )
    check(run.returncode == 0, "the admin in Chromium: log in, edit a task, remove a member")

    status, _, body = request("GET", f"/api/v1/tasks/{task_id}/", token=owner["token"])
    task = json.loads(body)
    check(status == 200 and task["title"] == title, "the API shows the title the operator set")
    check(task["assignee_id"] is None, "the removed member's task is unassigned")
    status, _, body = request("GET", members, token=owner["token"])
    check(
        member["email"] not in [m["user"]["email"] for m in json.loads(body)["results"]],
        "the member is gone from the project",
    )
    status, _, body = request(
        "GET", f"/api/v1/projects/{project_id}/activity/", token=owner["token"]
    )
    feed = json.loads(body)["results"]
    by_operator = {
        entry["verb"]: entry for entry in feed if entry["actor"]["email"] == operator["email"]
    }
    check(
        by_operator.get("member_removed", {}).get("changes", {}).get("unassigned_task_ids")
        == {"from": [task_id], "to": []},
        "the activity feed has the removal, the operator as its actor",
    )
    check(
        by_operator.get("updated", {}).get("changes", {}).get("title", {}).get("to") == title,
        "the activity feed has the edit, the operator as its actor",
    )
    elapsed = time.monotonic() - started
    check(elapsed < 60, f"the admin walk-through took {elapsed:.1f} s (under 60 s)")


def webhook_receiver() -> tuple[ThreadingHTTPServer, list]:
    """A loopback endpoint that records what it is sent and answers 204."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body.decode()))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def webhook_delivered(access: str) -> None:
    """A webhook gets a task's event, signed, through the worker `make run` started."""
    from standardwebhooks.webhooks import Webhook  # noqa: PLC0415 - in .venv, run from it

    receiver, received = webhook_receiver()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    status, _, body = request("GET", "/api/v1/projects/", token=access)
    inbox = json.loads(body)["results"][0]["id"]
    status, _, body = request(
        "POST",
        f"/api/v1/projects/{inbox}/webhooks/",
        {"url": url, "events": ["task.created"]},
        token=access,
    )
    check(status == 201, f"a webhook is created: {body!r}")
    secret = json.loads(body)["secret"]
    status, _, body = request("POST", "/api/v1/tasks/", {"title": "Hooked"}, token=access)
    check(status == 201, "a task is created")
    task_id = json.loads(body)["id"]
    deadline = time.monotonic() + 20
    while not received and time.monotonic() < deadline:
        time.sleep(0.1)
    check(bool(received), "the worker delivers the task's event to the webhook")
    headers, payload = received[0]
    event = Webhook(secret).verify(payload, headers)
    check(
        event["type"] == "task.created" and event["data"]["id"] == task_id,
        "the delivery is signed (Standard Webhooks) and carries the event",
    )
    receiver.shutdown()


def main() -> int:
    with mailbox() as (email_settings, mailbox_url):
        MAILBOX["url"] = mailbox_url
        return smoke({**email_settings})


# newman's `mailboxUrl`: the mail catcher the server sends to (.ci/mail_catcher.py).
MAILBOX: dict[str, str] = {}


def smoke(email_settings: dict[str, str]) -> int:
    env = {
        **os.environ,
        **email_settings,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "smoke-test-secret-key-0123456789abcdef0123456789ghijklmn",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORT": str(PORT),
        "THROTTLE_LOGIN": "off",
        "THROTTLE_REGISTER": "off",
    }
    log_path = ROOT / "smoke-server.log"
    server = start(env, log_path)
    try:
        wait_until_live(BASE, server, log_path)

        status, _, body = request("GET", "/health/ready/")
        check(status == 200, f"/health/ready/ is 200: {body!r}")
        checks = json.loads(body)["checks"]
        check(set(checks) == {"database", "cache", "channel_layer"}, "ready names its checks")

        for page in ("/api/docs/", "/api/redoc/"):
            status, headers, html = request("GET", page)
            check(status == 200, f"{page} is 200")
            check(
                not re.search(r'(?:src|href)="(?:https?:)?//', html.decode()),
                f"{page} loads nothing from another host",
            )
            assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html.decode())
            check(bool(assets), f"{page} loads assets")
            for asset in assets:
                check(asset.startswith("/static/"), f"{page} asset {asset} is self-hosted")
                status, headers, content = request("GET", asset)
                check(status == 200 and len(content) > 0, f"{asset} is served ({len(content)} B)")

        status, _, body = request("GET", "/api/schema/")
        check(status == 200 and b"openapi" in body, "/api/schema/ serves the OpenAPI document")

        email = f"smoke-{time.time_ns()}@example.com"
        password = "smoke-test-passphrase-1"
        status, _, body = request(
            "POST", "/api/v1/auth/register/", {"email": email, "password": password}
        )
        check(status == 201, f"register is 201: {body!r}")
        status, _, body = request(
            "POST", "/api/v1/auth/login/", {"email": email.upper(), "password": password}
        )
        check(status == 200, "login is 200")
        access = json.loads(body)["access"]
        status, _, body = request("GET", "/api/v1/auth/me/", token=access)
        check(status == 200 and json.loads(body)["email"] == email, "me returns the user")
        status, _, body = request("GET", "/api/v1/projects/", token=access)
        check(status == 200 and json.loads(body)["results"][0]["is_inbox"], "the Inbox exists")

        status, headers, body = request("POST", "/api/v1/auth/login", {"email": email})
        check(
            status == 404 and headers.get("content-type") == "application/json",
            "a path without its trailing slash is a JSON 404",
        )
        check(json.loads(body)["type"] == "client_error", "the 404 has the error envelope")

        postman_collection_passes("the default settings")

        node_path = os.environ.get("PLAYWRIGHT_NODE_PATH")
        if node_path:
            run = subprocess.run(
                ["node", str(ROOT / ".ci" / "swagger_ui.cjs"), BASE],
                cwd=ROOT,
                env={**os.environ, "NODE_PATH": node_path},
                timeout=180,
            )
            check(run.returncode == 0, "Swagger UI in Chromium: register, log in, Authorize, me/")
            admin_walk_through(env, node_path)
    finally:
        started = time.monotonic()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise AssertionError("the server did not stop within 15 s of SIGTERM") from None
    check(time.monotonic() - started < 15, "SIGTERM stops the server promptly")
    check(group_gone(server, started + 20), "the webhook worker stops with the server")
    check(
        "token=" not in log_path.read_text() or "[redacted]" in log_path.read_text(),
        "no token in the server log",
    )
    webhook_session(env)
    print("smoke test passed")
    return 0


def postman_collection_passes(settings: str) -> None:
    """The Postman collection under newman (when NEWMAN names it) against the server at BASE."""
    newman = os.environ.get("NEWMAN")
    if not newman:
        return
    postman = ROOT / "docs" / "postman"
    run = subprocess.run(
        [
            newman,
            "run",
            str(postman / "tasklane.postman_collection.json"),
            "--environment",
            str(postman / "tasklane.postman_environment.json"),
            "--env-var",
            f"baseUrl={BASE}",
            "--env-var",
            f"mailboxUrl={MAILBOX['url']}",
            "--reporters",
            "cli",
            "--color",
            "off",
        ],
        cwd=ROOT,
    )
    check(run.returncode == 0, f"the Postman collection passes under newman, {settings}")


def webhook_session(env: dict) -> None:
    """`make run` again, with the development settings that let a webhook reach a receiver on
    loopback over plain http (the main session keeps the defaults, which refuse both): the
    worker it starts delivers, and it stops with the server."""
    log_path = ROOT / "smoke-webhooks.log"
    server = start({**env, "WEBHOOKS_ALLOW_PRIVATE": "1", "WEBHOOKS_ALLOW_INSECURE": "1"}, log_path)
    try:
        wait_until_live(BASE, server, log_path)
        email = f"hooks-{time.time_ns()}@example.com"
        password = "smoke-test-passphrase-1"
        request("POST", "/api/v1/auth/register/", {"email": email, "password": password})
        status, _, body = request(
            "POST", "/api/v1/auth/login/", {"email": email, "password": password}
        )
        check(status == 200, "the webhook session logs in")
        webhook_delivered(json.loads(body)["access"])
        # The development flags (docs/webhooks.md) change what a webhook may target; the collection
        # must pass under them too.
        postman_collection_passes("with WEBHOOKS_ALLOW_PRIVATE=1 WEBHOOKS_ALLOW_INSECURE=1")
    finally:
        started = time.monotonic()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        gone = group_gone(server, started + 20)
    check(gone, f"the server and its worker stop within {time.monotonic() - started:.1f} s")


def group_gone(server: subprocess.Popen, deadline: float) -> bool:
    """Whether every process of `make run`'s group (uvicorn, the webhook worker) has exited
    by `deadline`; what is left then is killed."""
    while time.monotonic() < deadline:
        server.poll()
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    return False


if __name__ == "__main__":
    sys.exit(main())
