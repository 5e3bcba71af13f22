"""EMAIL_URL and its companions: what start-up reads, what it refuses, what `check --deploy`
says without it, and what the log stand-in writes (whole in DEBUG, nothing of it otherwise)."""

import json
import logging

import pytest
from django.core.mail import EmailMessage

from core.mail import LogEmailBackend
from tests.support.startup import IMPORT, SAFE_PRODUCTION, assert_refused, refused, start

CHECK_DEPLOY = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('check', '--deploy', '--fail-level', 'WARNING')"
)
EMAIL_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({name: "
    "getattr(s, name, None) for name in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', "
    "'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', "
    "'DEFAULT_FROM_EMAIL', 'FRONTEND_URL', 'EMAIL_TOKEN_TTL')}))"
)


def email_settings(**variables) -> dict:
    result = start(EMAIL_SETTINGS, DJANGO_DEBUG="1", **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_fails_without_email_url_outside_debug():
    result = start(CHECK_DEPLOY, **SAFE_PRODUCTION, SECURE_SSL_REDIRECT="1")

    assert result.returncode != 0
    assert "tasklane.E002" in result.stderr
    assert "EMAIL_URL is not set" in result.stderr


def test_without_email_url_messages_go_to_the_log_backend():
    assert email_settings()["EMAIL_BACKEND"] == "core.mail.LogEmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.internal", {"EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
        (
            "smtp+tls://tasklane:s%40cret%2F1@smtp.example.com:587",
            {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_HOST_PASSWORD": "s@cret/1"},
        ),
        (
            "smtp+ssl://user%40example.com:pw@smtp.example.com",
            {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_HOST_USER": "user@example.com"},
        ),
    ],
)
def test_email_url_names_the_smtp_server(url, expected):
    configured = email_settings(
        EMAIL_URL=url,
        DEFAULT_FROM_EMAIL="Tasklane <noreply@example.com>",
        FRONTEND_URL="https://app.example.com/",
        EMAIL_TOKEN_TTL="600",
    )

    assert configured["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert configured.items() >= expected.items()
    assert configured["EMAIL_USE_TLS"] is not True or configured["EMAIL_USE_SSL"] is not True
    assert configured["DEFAULT_FROM_EMAIL"] == "Tasklane <noreply@example.com>"
    assert configured["FRONTEND_URL"] == "https://app.example.com"
    assert configured["EMAIL_TOKEN_TTL"] == 600


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL must start with smtp://"),
        ({"EMAIL_URL": "https://mail.example.com"}, "EMAIL_URL must start with smtp://"),
        ({"EMAIL_URL": "smtp://"}, "EMAIL_URL names no host"),
        ({"FRONTEND_URL": "app.example.com"}, "FRONTEND_URL must be an http(s) URL"),
        ({"EMAIL_TOKEN_TTL": "0"}, "EMAIL_TOKEN_TTL must be a whole number"),
    ],
)
def test_start_up_refuses_bad_email_settings(variables, fragment):
    assert_refused(refused(DJANGO_DEBUG="1", **variables), fragment)


def test_the_email_url_is_not_a_setting_the_debug_page_could_show():
    result = start(IMPORT + "; print(hasattr(settings, 'EMAIL_URL'))", DJANGO_DEBUG="1")
    assert result.stdout.split() == ["True", "False"]


def message() -> EmailMessage:
    return EmailMessage("Reset", "Hello\n\nToken: secret-token-value\n", to=["ada@example.com"])


def test_in_debug_the_log_backend_writes_the_whole_message(settings, caplog):
    settings.DEBUG = True

    with caplog.at_level(logging.INFO, logger="tasklane.email"):
        assert LogEmailBackend().send_messages([message()]) == 1

    [record] = [r for r in caplog.records if r.name == "tasklane.email"]
    assert record.levelno == logging.WARNING  # `make run` runs its worker at WARNING
    assert "Token: secret-token-value" in record.getMessage()
    assert "ada@example.com" in record.getMessage()


def test_outside_debug_the_log_backend_writes_nothing_of_the_message(settings, caplog):
    settings.DEBUG = False

    with caplog.at_level(logging.INFO, logger="tasklane.email"):
        LogEmailBackend().send_messages([message()])

    [record] = [r for r in caplog.records if r.name == "tasklane.email"]
    assert "email_not_sent" in record.getMessage()
    assert "secret-token-value" not in caplog.text
    assert "ada@example.com" not in caplog.text
