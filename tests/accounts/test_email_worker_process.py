"""The whole path with real processes: the server commits, a Celery worker on Redis sends the
message over SMTP to a real server on loopback, which refuses it at first (4xx) so the worker
retries; the token the user reads then resets the password through the server."""

import time

import pytest

from tests.support.server import Server, request, require_services
from tests.support.smtp import SMTPServer, token_of
from tests.support.worker import Worker, worker_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def smtp():
    server = SMTPServer()
    yield server
    server.stop()


def test_a_reset_message_goes_out_from_the_worker_retried_and_its_token_works(tmp_path, smtp):
    require_services()
    env = worker_env(
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        DEFAULT_FROM_EMAIL="Tasklane <noreply@tasklane.test>",
        THROTTLE_LOGIN="off",
    )
    server = Server("server", tmp_path, env)
    worker = None
    try:
        server.wait_until_live()
        email = f"mail-{time.monotonic_ns()}@example.com"
        status, _ = request(
            "POST", f"{server.http}/api/v1/auth/register/", {"email": email, "password": PASSWORD}
        )
        assert status == 201
        smtp.recorder.refuse_with = "451 Try again later"
        worker = Worker(tmp_path, env, beat=False, concurrency=1)
        status, _ = request("POST", f"{server.http}/api/v1/auth/password/reset/", {"email": email})
        assert status == 202

        deadline = time.monotonic() + 60
        while "email_retry" not in worker.logs() and time.monotonic() < deadline:
            time.sleep(0.2)  # the first attempts are refused (4xx): the worker retries
        smtp.recorder.refuse_with = None
        while time.monotonic() < deadline:
            resets = [m for m in smtp.messages if m["To"] == email and "Reset" in m["Subject"]]
            if resets:
                break
            time.sleep(0.2)
        assert resets, worker.logs()
        status, _ = request(
            "POST",
            f"{server.http}/api/v1/auth/password/reset/confirm/",
            {"token": token_of(resets[-1]), "new_password": "a-brand-new-passphrase-77"},
        )
        assert status == 204
        logs = worker.logs()
        assert "email_retry" in logs
        assert "email_sent" in logs
        assert token_of(resets[-1]) not in logs
        assert email not in logs
    finally:
        if worker is not None:
            worker.kill()
        server.stop()
