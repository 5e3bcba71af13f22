"""`make postman`: the Postman collection under newman against a local server.

Starts `make run` the way CI's smoke test does (DEBUG off, throttles off, a fresh SQLite
database in a temporary directory unless DATABASE_URL is set; REDIS_URL is used when set),
installs newman beside CI's copy in .ci/node if it is missing (the version .ci/run pins),
then runs the whole collection with its environment file, `baseUrl` pointing at the server.
`build.py` uses the same server and newman to capture the saved examples.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
COLLECTION = HERE / "tasklane.postman_collection.json"
ENVIRONMENT = HERE / "tasklane.postman_environment.json"
NODE_PREFIX = ROOT / ".ci" / "node"

sys.path.insert(0, str(ROOT / ".ci"))
import make_run  # noqa: E402
from mail_catcher import mailbox  # noqa: E402
from make_run import free_port, start, stop, wait_until_live  # noqa: E402


def server_environment(port: int, scratch: Path, email: dict[str, str]) -> dict[str, str]:
    """The server's settings: production-like, and nothing read from a developer's `.env`;
    its mail goes to the run's mailbox (.ci/mail_catcher.py)."""
    return make_run.server_environment(
        port,
        "postman",
        **email,
        DJANGO_ENV_FILE="",
        DATABASE_URL=os.environ.get("DATABASE_URL") or f"sqlite:///{scratch}/postman.sqlite3",
        # The webhook worker's broker when there is no REDIS_URL: a folder, thrown away too.
        CELERY_BROKER_DIR=str(scratch / "celery-broker"),
    )


# newman's `mailboxUrl` for this process's run (set by local_server).
MAILBOX: dict[str, str] = {}


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """The base URL of `make run` serving on a free port; SIGTERM to its group at the end.
    When the body fails, the end of the server's log is printed (a 500 shows its traceback)."""
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="tasklane-postman-") as scratch,
        mailbox() as (email_settings, mailbox_url),
    ):
        log_path = Path(scratch) / "server.log"
        server = start(server_environment(port, Path(scratch), email_settings), log_path)
        base = f"http://127.0.0.1:{port}"
        MAILBOX["url"] = mailbox_url
        try:
            wait_until_live(base, server, log_path)
            yield base
        except BaseException:
            print("--- end of the server's log ---", file=sys.stderr)
            print("\n".join(log_path.read_text().splitlines()[-60:]), file=sys.stderr)
            raise
        finally:
            stop(server)


def ci_node_packages() -> list[str]:
    """Every pinned package .ci/run installs into .ci/node (`name@version`), newman among them.

    All of them, in one command: `npm install --no-save` of some packages removes the others
    from the prefix, and CI's other steps need theirs."""
    commands = re.findall(
        r"npm install --prefix \.ci/node\b((?:.*\\\n)*.*)", (ROOT / ".ci" / "run").read_text()
    )
    packages = re.findall(r"(?<!\S)((?:@[\w.-]+/)?[\w.-]+@\d[\w.-]*)", "\n".join(commands))
    if not any(package.startswith("newman@") for package in packages):
        raise SystemExit(".ci/run no longer installs a pinned newman into .ci/node")
    return list(dict.fromkeys(packages))


def newman() -> str:
    """The newman binary: $NEWMAN, or CI's install in .ci/node (made here when missing)."""
    if os.environ.get("NEWMAN"):
        return os.environ["NEWMAN"]
    binary = NODE_PREFIX / "node_modules" / ".bin" / "newman"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise SystemExit("newman needs Node.js and npm (https://nodejs.org/)")
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(NODE_PREFIX),
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                *ci_node_packages(),
            ],
            check=True,
        )
    return str(binary)


def run_collection(
    collection: Path, base: str, *newman_args: str, environment: Path = ENVIRONMENT
) -> int:
    """newman's exit status for the whole collection, with the environment file."""
    command = [
        newman(),
        "run",
        str(collection),
        "--environment",
        str(environment),
        "--env-var",
        f"baseUrl={base}",
        *(["--env-var", f"mailboxUrl={MAILBOX['url']}"] if "url" in MAILBOX else []),
        "--color",
        "off",
        *newman_args,
    ]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main() -> int:
    with local_server() as base:
        status = run_collection(COLLECTION, base, "--reporters", "cli")
        if status != 0:
            raise SystemExit(f"newman failed (exit {status})")
    print("The Postman collection passes against a local server.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
