"""Schemathesis against the real server process: every operation, every check.

Starts `make run` (DEBUG off, PostgreSQL and Redis from the environment, throttles off so
that the fuzzer is not answered 429), registers and logs in a user, then runs schemathesis
on the served `/api/schema/` with that user's access token: the examples, coverage,
fuzzing and stateful phases, all checks, a bounded number of examples per operation and a
fixed seed (`SCHEMATHESIS_SEED` picks another). Any failure fails CI. What the run allows
beyond the defaults, and why, is in `.ci/schemathesis.toml` and `.ci/schemathesis_hooks.py`.

    .venv/bin/python .ci/schemathesis_run.py            # as CI runs it
    SCHEMATHESIS_MAX_EXAMPLES=50 .venv/bin/python .ci/schemathesis_run.py
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from make_run import free_port, server_environment, start, stop, wait_until_live

ROOT = Path(__file__).resolve().parent.parent
CI = Path(__file__).resolve().parent


def post(base: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def access_token(base: str) -> str:
    email = f"schemathesis-{time.time_ns()}@example.com"
    password = secrets.token_urlsafe(24)
    status, body = post(base, "/api/v1/auth/register/", {"email": email, "password": password})
    if status != 201:
        raise SystemExit(f"register answered {status}: {body}")
    status, body = post(base, "/api/v1/auth/login/", {"email": email, "password": password})
    if status != 200:
        raise SystemExit(f"login answered {status}: {body}")
    return body["access"]


def main() -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(port, "schemathesis")
    workdir = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    log_path = workdir / "server.log"
    server = start(env, log_path)
    try:
        wait_until_live(base, server, log_path)
        token = access_token(base)
        command = [
            str(ROOT / ".venv" / "bin" / "schemathesis"),
            "--config-file",
            str(CI / "schemathesis.toml"),
            "--no-color",
            "run",
            f"{base}/api/schema/",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "100"),
            "--seed",
            os.environ.get("SCHEMATHESIS_SEED", "20261201"),
            # One worker: concurrent writes are the race tests' job (tests/test_races.py);
            # here they would make the run's outcome depend on timing.
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "--report",
            "junit",
            "--report-dir",
            str(workdir / "report"),
        ]
        started = time.monotonic()
        run = subprocess.run(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
                "PYTHONPATH": str(CI),
            },
        )
        print(
            f"schemathesis finished in {time.monotonic() - started:.0f} s (exit {run.returncode})"
        )
        if "Traceback" in log_path.read_text():
            print(log_path.read_text()[-20000:])
            print("the server logged a traceback")
            return 1
        return run.returncode
    finally:
        stop(server)


if __name__ == "__main__":
    sys.exit(main())
