"""A generated Python client against the real server.

Installs openapi-python-client (pinned in .ci/client-requirements.txt) into a throwaway
virtualenv, starts `make run` (DEBUG off, PostgreSQL and Redis from the environment),
generates a client from the schema the server serves at /api/schema/ with warnings as
errors, and runs .ci/client_scenario.py with that client against the server: a user's first
steps (labels, priorities, subtasks and the manual order among them) and the errors a client
must handle, through the client's typed models. A schema that
generates badly or a response the client cannot read fails CI: both are schema bugs.

    .venv/bin/python .ci/client_check.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from make_run import free_port, server_environment, start, stop, wait_until_live

CI = Path(__file__).resolve().parent


def timed(label: str, started: float) -> None:
    print(f"{label} in {time.monotonic() - started:.1f} s", flush=True)


def run(command: list, **kwargs) -> None:
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="client-check-"))
    started = time.monotonic()
    tools = workdir / "venv"
    venv.create(tools, with_pip=True)
    run(
        [
            tools / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            CI / "client-requirements.txt",
        ]
    )
    timed("generator installed", started)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(port, "client-check")
    log_path = workdir / "server.log"
    server = start(env, log_path)
    try:
        wait_until_live(base, server, log_path)
        started = time.monotonic()
        # The generator formats its output with ruff, which it looks for on PATH.
        tool_env = {**os.environ, "PATH": f"{tools / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        run(
            [
                tools / "bin" / "openapi-python-client",
                "generate",
                "--url",
                f"{base}/api/schema/",
                "--meta",
                "none",
                "--output-path",
                workdir / "tasklane_api_client",
                "--fail-on-warning",
            ],
            env=tool_env,
        )
        timed("client generated from the served schema", started)
        started = time.monotonic()
        run(
            [tools / "bin" / "python", CI / "client_scenario.py", base],
            env={**tool_env, "PYTHONPATH": str(workdir)},
        )
        timed("scenario passed", started)
        if "Traceback" in log_path.read_text():
            print(log_path.read_text()[-20000:])
            print("the server logged a traceback")
            return 1
        return 0
    except subprocess.CalledProcessError as error:
        print(log_path.read_text()[-5000:])
        print(f"failed: {' '.join(map(str, error.cmd))} (exit {error.returncode})")
        return 1
    finally:
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
