"""A mail server for the Postman runs (`make postman`, docs/postman/build.py, .ci/smoke.py).

The collection's token cases need the token a message carries, as a user reads it. This
starts, on loopback, an SMTP server (aiosmtpd, a development requirement) for the API's
worker to send to (`EMAIL_URL`), and a small HTTP server for newman to ask:
`GET /token?to=<address>&subject=<word>` answers `{"token": "..."}` from the newest message
to that address whose subject holds the word, waiting up to 20 s for it to arrive, or a 404.
"""

import contextlib
import email
import email.policy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

TOKEN_LINE = re.compile(r"^Token: (\S+)\r?$", re.MULTILINE)
WAIT_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def token(self, to: str, subject: str) -> str | None:
        deadline = time.monotonic() + WAIT_SECONDS
        with self.arrived:
            while True:
                for message in reversed(self.messages):
                    if message["To"] == to and subject.lower() in message["Subject"].lower():
                        found = TOKEN_LINE.search(message.get_content())
                        return found[1] if found else None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)


def handler_for(inbox: Inbox):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = parse_qs(urlsplit(self.path).query)
            token = inbox.token(query.get("to", [""])[0], query.get("subject", [""])[0])
            body = json.dumps({"token": token}).encode()
            self.send_response(200 if token else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@contextlib.contextmanager
def mailbox() -> Iterator[tuple[dict[str, str], str]]:
    """(the server's email settings, the mailbox's base URL for newman's `mailboxUrl`)."""
    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(inbox))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        settings = {
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "DEFAULT_FROM_EMAIL": "Tasklane <noreply@tasklane.test>",
        }
        yield settings, f"http://127.0.0.1:{http.server_address[1]}"
    finally:
        http.shutdown()
        smtp.stop()
