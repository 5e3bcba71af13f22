"""Production defaults: HSTS on every HTTPS response, a clean `check --deploy` with the
settings docs/operations.md documents, and a development key that no other checkout shares."""

import stat
import threading

import config.settings as settings_module
from config.settings import BASE_DIR, DEVELOPMENT_KEY_FILE, development_secret_key
from tests.support.startup import SAFE_PRODUCTION, start

DOCUMENTED_PRODUCTION = {
    **SAFE_PRODUCTION,
    "SECURE_SSL_REDIRECT": "1",
    "EMAIL_URL": "smtp+tls://tasklane:secret@mail.example.com:587",
}


def test_check_deploy_reports_nothing_with_the_documented_production_settings():
    result = start(
        "import django, sys; django.setup(); from django.core.management import call_command; "
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        **DOCUMENTED_PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout


def test_hsts_is_sent_on_https_responses_without_the_https_redirect(api_client, db, settings):
    assert settings.SECURE_SSL_REDIRECT is False

    secure = api_client.get("/health/live/", secure=True)
    plain = api_client.get("/health/live/")

    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in plain


def test_health_checks_are_not_redirected_to_https(api_client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert api_client.get("/health/live/").status_code == 200
    assert api_client.get("/api/v1/auth/me/").status_code == 301


def test_the_development_key_is_random_and_kept(tmp_path):
    first = development_secret_key(tmp_path / "a")
    again = development_secret_key(tmp_path / "a")
    other = development_secret_key(tmp_path / "b")

    assert first == again
    assert first != other
    assert len(first) >= 50
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o600


def test_a_start_beside_one_still_writing_the_key_gets_a_whole_key(tmp_path, monkeypatch):
    """Two starts at once (xdist workers, a server and its worker): one is still making its
    key when the other looks. Neither may read an empty file; both keep one key."""
    path = tmp_path / "key"
    writing, release = threading.Event(), threading.Event()
    make_key = settings_module.secrets.token_urlsafe

    def slow_in_the_first_start(size):
        if threading.current_thread().name == "first":
            writing.set()
            release.wait(5)
        return make_key(size)

    monkeypatch.setattr(settings_module.secrets, "token_urlsafe", slow_in_the_first_start)
    keys = {}
    first = threading.Thread(
        target=lambda: keys.update(first=development_secret_key(path)), name="first"
    )
    first.start()
    assert writing.wait(5)

    keys["second"] = development_secret_key(path)
    release.set()
    first.join(5)

    assert keys["first"] == keys["second"] == path.read_text().strip()
    assert len(keys["second"]) >= 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]  # no draft left behind


def test_debug_without_a_key_signs_with_the_checkouts_own_key():
    result = start("from django.conf import settings; print(settings.SECRET_KEY)", DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (BASE_DIR / DEVELOPMENT_KEY_FILE).read_text().strip()


def test_the_development_key_file_is_ignored_by_git():
    ignored = (BASE_DIR / ".gitignore").read_text().splitlines()

    assert DEVELOPMENT_KEY_FILE in ignored
