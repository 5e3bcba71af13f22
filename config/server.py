"""uvicorn's HTTP protocol with limits on the request head (`--http config.server:HttpProtocol`).

uvicorn bounds the wait between kept-alive requests (`--timeout-keep-alive`), but not the wait
for a request head: a connection that sends nothing, or trickles its request line and headers
a byte at a time (slowloris), stays open as long as its client likes, and enough of them use
up the process's file descriptors. Here each head, from the connection's opening or its first
byte on a kept-alive connection, must be complete within REQUEST_HEADER_TIMEOUT seconds, or
the connection is closed without an answer (nothing has been read that could be answered).
A head is also limited in size: httptools accepts any number of header bytes, so a head of
more than HEAD_MAX_BYTES (the request line's target and the headers' names and values) is
answered 431 and the connection closed.
Bodies have their own limits (core/request_body.py); a WebSocket's head is complete before it
is upgraded, so sockets are never cut by this.
"""

import logging

from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("tasklane.server")

HEAD_MAX_BYTES = 64 * 1024
TOO_LARGE = "Request header fields too large."


class HeadTooLarge(Exception):
    pass


class HttpProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = settings.REQUEST_HEADER_TIMEOUT
        self.header_deadline = None
        self.head_bytes = 0
        self.head_too_large = False

    def start_header_deadline(self) -> None:
        if self.header_deadline is None:
            self.header_deadline = self.loop.call_later(
                self.header_timeout, self.header_deadline_passed
            )

    def stop_header_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def header_deadline_passed(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            logger.info(
                "Connection closed: no complete request head within %s s", self.header_timeout
            )
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.start_header_deadline()

    def connection_lost(self, exc) -> None:
        self.stop_header_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:  # the first byte of the next request
        super().on_message_begin()
        self.head_bytes = 0
        self.start_header_deadline()

    def count_head_bytes(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > HEAD_MAX_BYTES:
            self.head_too_large = True
            raise HeadTooLarge  # httptools stops parsing; uvicorn answers and closes

    def on_url(self, url: bytes) -> None:
        self.count_head_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.count_head_bytes(len(name) + len(value))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.stop_header_deadline()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a head it could not parse; ours says why when it was the size."""
        if not self.head_too_large:
            return super().send_400_response(msg)
        self.stop_header_deadline()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            + f"content-length: {len(TOO_LARGE)}\r\n".encode()
            + b"connection: close\r\n\r\n"
            + TOO_LARGE.encode()
        )
        self.transport.close()
