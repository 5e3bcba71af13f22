"""GitHub's CI workflow and the local `compose.yaml` stay in step with `.ci/run`, the one CI
script, and with the addresses the README gives.

The workflow must run `.ci/run` itself (so every step of it runs there too), with PostgreSQL
and Redis on the ports .ci/run checks, and install what .ci/run calls that a runner lacks.
compose.yaml must start the same services where the README's DATABASE_URL/REDIS_URL and
.ci/run's point.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.support.readme import SHELL_BLOCK

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
COMPOSE = ROOT / "compose.yaml"
CI_RUN = ROOT / ".ci" / "run"
# The programs .ci/run (and the scripts it runs) call that are not Python's or npm's, and the
# Debian/Ubuntu package that brings each.
PACKAGE_OF = {
    "pg_isready": "postgresql-client",
    "psql": "postgresql-client",
    "createdb": "postgresql-client",
    "redis-cli": "redis-tools",
    "redis-server": "redis-server",
}
SCRIPTS = [CI_RUN, *sorted((ROOT / ".ci").glob("*.py")), ROOT / "bench" / "common.py"]


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def ci_run_urls() -> list[str]:
    return re.findall(r'export (?:DATABASE|REDIS)_URL="([^"]+)"', CI_RUN.read_text())


def readme_urls() -> list[str]:
    urls = []
    for block in SHELL_BLOCK.findall((ROOT / "README.md").read_text()):
        urls += re.findall(r"\b(?:DATABASE|REDIS)_URL=(\S+)", block)
    return urls


def addresses(urls: list[str]) -> set[tuple[str, str, int]]:
    """(scheme, user, port) of each URL, every one of them on 127.0.0.1."""
    found = set()
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1", url
        found.add((parts.scheme, parts.username or "", parts.port))
    return found


def published(service: dict) -> set[int]:
    """The host ports a service publishes on localhost ("5432:5432", "127.0.0.1:5432:5432")."""
    ports = set()
    for entry in service["ports"]:
        host_side = str(entry).rsplit(":", 1)[0]
        host, _, port = host_side.rpartition(":")
        assert host in ("", "127.0.0.1"), entry
        ports.add(int(port))
    return ports


def test_the_workflow_runs_the_ci_script_itself():
    steps = workflow()["jobs"]["ci"]["steps"]
    runs = [step.get("run", "") for step in steps]

    assert "bash .ci/run" in runs
    assert CI_RUN.read_text().count('step "') >= 5  # its steps are .ci/run's own


def test_the_workflow_has_postgres_and_redis_where_ci_run_looks_for_them():
    services = workflow()["jobs"]["ci"]["services"]
    postgres, redis = services["postgres"], services["redis"]
    expected = addresses(ci_run_urls())

    assert postgres["image"] == "postgres:15"
    assert postgres["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert ("postgres", "postgres", 5432) in expected
    assert published(postgres) == {5432}
    assert ("redis", "", 6379) in expected
    assert published(redis) == {6379}
    for port in (5432, 6379):
        assert f"-p {port}" in CI_RUN.read_text()


def test_the_workflow_installs_every_program_ci_run_calls():
    called = {
        program
        for program in PACKAGE_OF
        if any(re.search(rf"(?<![\w-]){program}(?![\w-])", path.read_text()) for path in SCRIPTS)
    }
    installs = " ".join(step.get("run", "") for step in workflow()["jobs"]["ci"]["steps"])

    assert called == set(PACKAGE_OF), called  # the table lists only what is called
    for program in called:
        assert PACKAGE_OF[program] in installs, program


def test_compose_starts_postgres_and_redis_where_the_readme_and_ci_point():
    services = compose()["services"]
    postgres, redis = services["postgres"], services["redis"]
    readme = addresses(readme_urls())

    assert readme == {("postgres", "postgres", 5432), ("redis", "", 6379)}
    assert addresses(ci_run_urls()) == readme
    assert postgres["image"] == workflow()["jobs"]["ci"]["services"]["postgres"]["image"]
    assert redis["image"] == workflow()["jobs"]["ci"]["services"]["redis"]["image"]
    assert postgres["environment"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert published(postgres) == {5432}
    assert published(redis) == {6379}


def test_the_readme_offers_compose_as_the_optional_way():
    readme = (ROOT / "README.md").read_text()

    assert "docker compose up -d" in readme
    assert "](compose.yaml)" in readme
