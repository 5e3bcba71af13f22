"""Start-up refuses unsafe or malformed configuration with one clear sentence.

Each case imports the settings in a fresh interpreter with a clean environment, as a
server process would start.
"""

import pytest

from tests.support.startup import IMPORT, SAFE_PRODUCTION, assert_refused, refused, start


def test_safe_production_settings_start():
    result = start(**SAFE_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_is_off_unless_asked_for():
    environment = dict(SAFE_PRODUCTION)
    del environment["DJANGO_DEBUG"]

    result = start(**environment)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_missing_secret_key_with_debug_off_is_refused():
    result = refused(DJANGO_DEBUG="0", ALLOWED_HOSTS="api.example.com")

    assert_refused(result, "DJANGO_SECRET_KEY")


def test_blank_secret_key_with_debug_off_is_refused():
    result = refused(**SAFE_PRODUCTION | {"DJANGO_SECRET_KEY": "   "})

    assert_refused(result, "DJANGO_SECRET_KEY")


@pytest.mark.parametrize(
    "key",
    [
        "short-but-random-Xq7#pL2!",  # under 50 characters
        "ab" * 30,  # long, but only 2 different characters
        "django-insecure-" + "k3#x9Lq!vR2@pZ8^wN5&mT1*bY7(cJ4)" * 2,  # startproject's marker
    ],
)
def test_a_secret_key_check_deploy_would_flag_is_refused_with_debug_off(key):
    result = refused(**SAFE_PRODUCTION | {"DJANGO_SECRET_KEY": key})

    assert_refused(result, "DJANGO_SECRET_KEY", "50")
    assert key not in result.stderr  # the refusal never prints the secret


def test_a_short_secret_key_is_allowed_in_debug():
    result = start(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="dev")

    assert result.returncode == 0, result.stderr


def test_missing_secret_key_is_allowed_in_debug():
    result = start(DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize("hosts", ["*", "api.example.com, * "])
def test_wildcard_allowed_hosts_with_debug_off_is_refused(hosts):
    result = refused(**SAFE_PRODUCTION | {"ALLOWED_HOSTS": hosts})

    assert_refused(result, "ALLOWED_HOSTS")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("THROTTLE_LOGIN", "ten per minute"),
        ("THROTTLE_LOGIN", "10"),
        ("THROTTLE_LOGIN", "10/"),
        ("THROTTLE_LOGIN", "/min"),
        ("THROTTLE_LOGIN", "-1/min"),
        ("THROTTLE_LOGIN", "10/fortnight"),
        ("THROTTLE_REGISTER", "lots"),
        ("THROTTLE_USER", "1.5/min"),
    ],
)
def test_a_malformed_throttle_rate_is_refused_naming_the_variable(variable, value):
    result = refused(**SAFE_PRODUCTION | {variable: value})

    assert_refused(result, variable, repr(value))


def test_valid_throttle_rates_start():
    rates = {"THROTTLE_LOGIN": "5/min", "THROTTLE_REGISTER": "OFF", "THROTTLE_USER": "1000/day"}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])"
    )

    result = start(code, **SAFE_PRODUCTION | rates)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str({"login": "5/min", "register": None, "user": "1000/day"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("MAX_BODY_BYTES", "lots"),
        ("MAX_BODY_BYTES", "0"),
        ("ACCESS_TOKEN_LIFETIME", "15m"),
        ("REFRESH_TOKEN_LIFETIME", "-1"),
    ],
)
def test_other_malformed_variables_are_refused_naming_the_variable(variable, value):
    result = refused(**SAFE_PRODUCTION | {variable: value})

    assert_refused(result, variable)


def test_a_server_process_runs_http_on_four_threads_by_default():
    """Measured on two cores: 8 threads served no more than 4, with a longer tail
    (bench/README.md, processes and threads)."""
    result = start(IMPORT.replace("settings.DEBUG", "settings.HTTP_THREADS"), **SAFE_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"
