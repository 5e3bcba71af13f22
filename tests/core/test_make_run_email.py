"""Under `make run` (DEBUG, no EMAIL_URL) a message is written to the log by the worker it
starts, so a developer can copy the token from there: registration's verification message,
then its token verifies the email, all through the real server and worker."""

import re
import time

import pytest

from tests.support.make_run import call, start_make_run

pytestmark = pytest.mark.server

TOKEN_LINE = re.compile(r"Token: ([A-Za-z0-9_-]{43})")


def test_make_run_writes_the_verification_message_to_its_log(tmp_path):
    server = start_make_run(tmp_path)
    try:
        status, user = call(
            "POST",
            f"{server.http}/api/v1/auth/register/",
            {"email": "dev@example.com", "password": "a-long-test-passphrase-42"},
        )
        assert status == 201, user
        deadline = time.monotonic() + 60
        while not (found := TOKEN_LINE.search(server.logs())) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert found, server.logs()
        assert "email_not_sent_written_here" in server.logs()

        status, verified = call(
            "POST", f"{server.http}/api/v1/auth/email/verify/", {"token": found[1]}
        )
    finally:
        server.stop()

    assert status == 200, verified
    assert verified["email_verified"] is True
