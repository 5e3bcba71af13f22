"""The deploy blueprints (`render.yaml` for Render, `app.json` for Heroku) deploy what CI tests.

They run the Procfile's commands word for word, wire in PostgreSQL and Redis, set nothing
that weakens production, and their production settings pass `manage.py check --deploy`.
`.ci/prod_smoke.py` starts the same commands from a fresh production build.
"""

import json
import re
import secrets
import shlex
import sys
from base64 import b64encode
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from bench import common as bench_common
from tests.support import server as tests_server
from tests.support.startup import start

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
RENDER = ROOT / "render.yaml"
HEROKU = ROOT / "app.json"
# Never set in production: each one weakens it.
NEVER_IN_PRODUCTION = {
    "FAST_PASSWORD_HASHER",
    "DJANGO_ENV_FILE",
    "WEBHOOKS_ALLOW_INSECURE",
    "WEBHOOKS_ALLOW_PRIVATE",
    "DJANGO_SETTINGS_MODULE",
}
# What the add-ons set on Heroku, by attachment name.
HEROKU_ADDON_VARIABLES = {"DATABASE": "DATABASE_URL", "REDIS": "REDIS_URL"}
# What the operator types in when deploying (Render prompts for these, `sync: false`; Heroku
# marks them required), with stand-ins for the checks below.
OPERATOR_PROVIDES = {
    "EMAIL_URL": "smtp+tls://tasklane:secret@smtp.example.com:587",
    "DEFAULT_FROM_EMAIL": "Tasklane <noreply@example.com>",
}
# Stand-ins for what each platform provides, to start the settings as it would.
RENDER_PROVIDES = {
    "RENDER_EXTERNAL_HOSTNAME": "tasklane.onrender.com",
    "DATABASE_URL": "postgresql://tasklane:password@dpg-example-a/tasklane",
    "REDIS_URL": "redis://red-example:6379",
}
HEROKU_PROVIDES = {
    "HEROKU_APP_DEFAULT_DOMAIN_NAME": "tasklane-0123456789ab.herokuapp.com",
    "DATABASE_URL": "postgres://user:password@ec2-198-51-100-7.compute-1.amazonaws.com:5432/d1",
    "REDIS_URL": "rediss://:password@ec2-198-51-100-8.compute-1.amazonaws.com:12345",
}


def procfile() -> dict[str, str]:
    lines = PROCFILE.read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def render_blueprint() -> dict:
    return yaml.safe_load(RENDER.read_text())


def heroku_manifest() -> dict:
    return json.loads(HEROKU.read_text())


def render_service(name: str) -> dict:
    services = {service["name"]: service for service in render_blueprint()["services"]}
    return services[name]


def render_variables(service: dict) -> dict[str, dict]:
    """Every variable a Render service gets, its groups' included, by name."""
    groups = {group["name"]: group for group in render_blueprint().get("envVarGroups", [])}
    variables = {}
    for entry in service.get("envVars", []):
        if "fromGroup" in entry:
            variables |= {item["key"]: item for item in groups[entry["fromGroup"]]["envVars"]}
        else:
            variables[entry["key"]] = entry
    return variables


def heroku_variables() -> set[str]:
    manifest = heroku_manifest()
    attached = {addon["as"] for addon in manifest["addons"] if "as" in addon}
    return set(manifest["env"]) | {HEROKU_ADDON_VARIABLES[name] for name in attached}


def named_by(platform: str) -> set[str]:
    if platform == "heroku":
        return heroku_variables()
    return set(render_variables(render_service("tasklane")))


@pytest.mark.parametrize("platform", ["render", "heroku"])
def test_no_blueprint_sets_what_weakens_production(platform):
    assert named_by(platform) & NEVER_IN_PRODUCTION == set()


def test_render_runs_the_procfile_commands_word_for_word():
    processes = procfile()
    web, worker = render_service("tasklane"), render_service("tasklane-worker")

    assert web["type"] == "web"
    assert web["startCommand"] == processes["web"]
    assert web["preDeployCommand"] == processes["release"]
    assert web["buildCommand"] == (
        "pip install -r requirements.txt && python manage.py collectstatic --noinput"
    )
    assert worker["type"] == "worker"
    assert worker["startCommand"] == processes["worker"]
    assert worker["buildCommand"] == "pip install -r requirements.txt"
    assert {web["runtime"], worker["runtime"]} == {"python"}


def test_the_test_servers_and_the_benchmarks_run_the_procfile_web_line():
    """tests/support/server.py and bench/common.py read the Procfile's web line (flags written
    once): they run it word for word, but for where it listens and which uvicorn is installed."""
    web = shlex.split(procfile()["web"])
    web[web.index("--host") + 1] = "127.0.0.1"
    web[web.index("--port") + 1] = "8123"

    assert tests_server.procfile_web_command("127.0.0.1", 8123) == [sys.executable, "-m", *web]
    bench = bench_common.procfile_command(8123)
    assert Path(bench[0]).name == "uvicorn"
    assert bench[1:] == web[1:]
    # The floor (bench/run.py) runs the same line with its own app in place of Tasklane's.
    floor = bench_common.procfile_command(8123, app="bench.floor:application")
    assert floor[1:] == [word.replace("config.asgi", "bench.floor") for word in web[1:]]


def test_the_scheduled_housekeeping_is_a_real_command():
    command = render_service("tasklane-purge")["startCommand"].split()

    assert command[:2] == ["python", "manage.py"]
    assert command[2] in get_commands()
    assert "scheduler" in {addon["plan"].split(":")[0] for addon in heroku_manifest()["addons"]}


def test_render_health_check_is_the_readiness_url():
    path = render_service("tasklane")["healthCheckPath"]

    assert resolve(path).url_name == "health-ready"


def test_render_wires_postgres_and_key_value_into_both_services():
    blueprint = render_blueprint()
    databases = {database["name"]: database for database in blueprint["databases"]}
    key_values = {s["name"]: s for s in blueprint["services"] if s["type"] == "keyvalue"}

    for name in ("tasklane", "tasklane-worker", "tasklane-purge"):
        variables = render_variables(render_service(name))
        database = variables["DATABASE_URL"]["fromDatabase"]
        redis = variables["REDIS_URL"]["fromService"]
        assert database["name"] in databases
        assert database["property"] == "connectionString"
        assert redis["type"] == "keyvalue"
        assert redis["name"] in key_values
        assert redis["property"] == "connectionString"
        assert "DJANGO_SECRET_KEY" in variables, "every process must share one key"
    for key_value in key_values.values():
        assert key_value["ipAllowList"] == []  # required by Render; [] means private only
        assert key_value["maxmemoryPolicy"] == "noeviction"  # queues must not be evicted
    regions = {resource["region"] for resource in [*blueprint["services"], *databases.values()]}
    assert len(regions) == 1, "private-network URLs work within one region only"


@pytest.mark.parametrize("platform", ["render", "heroku"])
def test_each_blueprint_asks_for_the_mail_server_and_sender(platform):
    """Without them `check --deploy` fails (tasklane.E002), and no default sender is right."""
    if platform == "render":
        variables = render_variables(render_service("tasklane-worker"))
        for name in OPERATOR_PROVIDES:
            assert variables[name] == {"key": name, "sync": False}
    else:
        variables = heroku_manifest()["env"]
        for name in OPERATOR_PROVIDES:
            assert variables[name]["required"] is True
    assert {"FRONTEND_URL", "EMAIL_TOKEN_TTL"} <= set(variables)


def test_render_asks_for_the_secret_key_because_its_generated_values_are_too_short():
    """Render's `generateValue` is 256 random bits in base64: 44 characters. Start-up refuses
    keys under 50 (what `check --deploy` asks), so the Blueprint prompts for one instead."""
    like_render = b64encode(secrets.token_bytes(32)).decode()
    assert len(like_render) == 44

    refused = start(
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=like_render, ALLOWED_HOSTS="tasklane.onrender.com"
    )

    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY must be at least 50" in refused.stderr
    secret = render_variables(render_service("tasklane"))["DJANGO_SECRET_KEY"]
    assert secret == {"key": "DJANGO_SECRET_KEY", "sync": False}


def test_heroku_builds_runs_the_release_phase_and_each_procfile_process():
    manifest = heroku_manifest()
    processes = procfile()

    assert manifest["buildpacks"] == [{"url": "heroku/python"}]
    assert "release" in processes  # Heroku runs it before each release goes live
    assert set(manifest["formation"]) == set(processes) - {"release"}
    plans = {addon["plan"].split(":")[0] for addon in manifest["addons"]}
    assert plans == {"heroku-postgresql", "heroku-redis", "scheduler"}


def test_heroku_describes_every_variable_and_generates_the_secret():
    variables = heroku_manifest()["env"]

    for name, variable in variables.items():
        assert len(variable.get("description", "")) > 20, name
        if name in OPERATOR_PROVIDES:  # asked for at deploy time: no default can be right
            assert variable["required"] is True, name
            continue
        assert "value" in variable or "generator" in variable or variable["required"] is False
    assert variables["DJANGO_SECRET_KEY"]["generator"] == "secret"
    # The add-ons set these; a value here would be overwritten or fight them.
    assert not {"DATABASE_URL", "REDIS_URL"} & set(variables)


def blueprint_environment(platform: str) -> dict[str, str]:
    """The environment a web process gets on the platform: the blueprint's own values, a
    secret as the platform or the README makes it, and stand-ins for what it provides."""
    if platform == "render":
        variables = render_variables(render_service("tasklane"))
        values = {name: entry["value"] for name, entry in variables.items() if "value" in entry}
        return {
            **values,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            **OPERATOR_PROVIDES,
            **RENDER_PROVIDES,
        }
    variables = heroku_manifest()["env"]
    values = {name: entry["value"] for name, entry in variables.items() if "value" in entry}
    # Heroku's `secret` generator: 64 hexadecimal characters.
    return {
        **values,
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        **OPERATOR_PROVIDES,
        **HEROKU_PROVIDES,
    }


CHECK_DEPLOY = (
    "import json, django; django.setup(); from django.conf import settings; "
    "from django.core.management import call_command; "
    "call_command('check', '--deploy', '--fail-level', 'WARNING'); "
    "print(json.dumps({'hosts': settings.ALLOWED_HOSTS, 'redis': settings.REDIS_URL, "
    "'cache': settings.CACHES['default']['LOCATION'], "
    "'layer': settings.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address'], "
    "'debug': settings.DEBUG, 'redirect': settings.SECURE_SSL_REDIRECT}))"
)


@pytest.mark.parametrize("platform", ["render", "heroku"])
def test_each_blueprint_starts_with_settings_check_deploy_passes(platform):
    environment = blueprint_environment(platform)

    result = start(CHECK_DEPLOY, **environment)

    assert result.returncode == 0, result.stderr
    report, _, values = result.stdout.strip().rpartition("\n")
    assert "no issues" in report
    configured = json.loads(values)
    assert configured["debug"] is False
    assert configured["redirect"] is True
    platform_host = environment.get("RENDER_EXTERNAL_HOSTNAME") or environment.get(
        "HEROKU_APP_DEFAULT_DOMAIN_NAME"
    )
    assert platform_host in configured["hosts"]
    assert configured["cache"] == configured["layer"] == configured["redis"]
    if platform == "heroku":
        # Heroku's Redis presents a self-signed certificate (tests/core/test_redis_tls.py).
        assert configured["redis"] == environment["REDIS_URL"] + "?ssl_cert_reqs=none"
    else:
        assert configured["redis"] == environment["REDIS_URL"]


def test_the_python_version_is_pinned_where_both_platforms_read_it():
    """`.python-version` (a major version: the platform applies security releases) is what
    Heroku's and Render's Python builds read; a `runtime.txt` would take precedence on
    Heroku, so there is none. CI runs the suite on the same version."""
    pinned = (ROOT / ".python-version").read_text().strip()

    assert re.fullmatch(r"3\.\d+", pinned)
    assert not (ROOT / "runtime.txt").exists()
    assert pinned == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_the_platforms_install_the_production_requirements_only():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()

    assert [line for line in requirements if line and not line.startswith("#")] == [
        "-r requirements/prod.txt"
    ]


def server_flags(command: str) -> list[str]:
    """What follows `--port <port>` in a uvicorn command line: the server's own settings."""
    words = command.split()
    assert words[:2] in (
        ["uvicorn", "config.asgi:application"],
        ["$(BIN)/uvicorn", "config.asgi:application"],
    ), words
    return words[words.index("--port") + 2 :]


def test_make_run_starts_uvicorn_as_the_procfile_does():
    """`make run` cannot read the Procfile (its host and port are make variables): it passes
    the same flags (header limits, proxies, logs...), word for word."""
    web = server_flags(procfile()["web"])
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    run = re.search(r"\$\(BIN\)/uvicorn config\.asgi:application .*$", makefile, re.M)

    assert "--http" in web and "--no-proxy-headers" in web
    assert run is not None
    assert server_flags(run[0].strip()) == web
