"""A real SMTP server on loopback (aiosmtpd), and the worker's side of sending email.

`Mailbox` is what the `mail` fixture (conftest.py) gives a test: the settings point Django's
SMTP backend at a fresh aiosmtpd server, and what the web process hands to the worker (the
`send_email` task of core/mail.py and its arguments, as they would go through the broker) is kept
instead of published. `deliver()` then runs each handed-over task as a worker does, through
Celery's own task machinery (`apply`), so the message goes out over SMTP and arrives here
as the user's mail server would receive it. `messages` are parsed `email.message` objects;
`token_of` reads the `Token:` line a client would read.
"""

import email
import email.policy
import re
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from core import mail as core_mail

TOKEN_LINE = re.compile(r"^Token: (\S+)\r?$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """aiosmtpd handler: keeps every message it accepts (or refuses them all, with `code`)."""

    def __init__(self):
        self.envelopes = []
        self.refuse_with: str | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self):
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self.recorder.lock:
            envelopes = list(self.recorder.envelopes)
        return [
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            for envelope in envelopes
        ]


class Mailbox:
    def __init__(self, server: SMTPServer, monkeypatch):
        self.server = server
        self.handed_over: list[dict] = []
        monkeypatch.setattr(core_mail.send_email, "apply_async", self._hand_over)

    def _hand_over(self, args=None, kwargs=None, **options):
        self.handed_over.append(kwargs["message"])

    def queued(self) -> list[dict]:
        """What the web process has handed to the worker so far (the hand-off runs on its
        own thread: wait for it)."""
        core_mail.handoff.join()
        return list(self.handed_over)

    def deliver(self) -> list[email.message.EmailMessage]:
        """Run every handed-over task as the worker would; the messages that arrived."""
        for message in self.queued():
            self.handed_over.remove(message)
            # Celery runs the task's retries at once, each inside the one before (no countdown).
            result = core_mail.send_email.apply(kwargs={"message": message})
            if result.failed():
                raise result.result
        return self.server.messages

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return self.server.messages

    def last_to(self, address: str) -> email.message.EmailMessage:
        mine = [message for message in self.deliver() if message["To"] == address]
        assert mine, f"no message to {address}"
        return mine[-1]


def token_of(message: email.message.EmailMessage) -> str:
    """The token on the message's `Token:` line, as a client reads it."""
    found = TOKEN_LINE.findall(message.get_content())
    assert len(found) == 1, message.get_content()
    return found[0]


# --- Fixtures (a plugin of the root conftest.py) ------------------------------------------


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    yield server
    server.stop()


@pytest.fixture
def mail(smtp_server, settings, monkeypatch) -> Mailbox:
    """Email goes through Django's SMTP backend to `smtp_server`; see `Mailbox`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_RETRY_BASE = 0.01
    settings.EMAIL_RETRY_MAX = 0.01
    return Mailbox(smtp_server, monkeypatch)
