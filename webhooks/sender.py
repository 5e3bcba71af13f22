"""One delivery attempt: a Standard Webhooks request to a checked address.

The request carries only what it must: the JSON body and the `webhook-*` headers (never a
cookie, a credential or a header of the request that caused the event). Redirects are not
followed, and at most a few KiB of the answer are read.

The whole attempt (resolving the host, connecting, TLS, sending, the answer's headers and
body) ends by one deadline, `WEBHOOKS_TIMEOUT` after it started. httpx's own timeouts bound
each socket operation, not the request: a receiver that trickles one header line every few
seconds never trips them. So the request runs on an event loop under `asyncio.timeout`, which
cancels whatever it is waiting for when the deadline comes and closes the connection.
"""

import asyncio
import base64
import secrets
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import certifi
import httpx
from django.conf import settings
from standardwebhooks.webhooks import Webhook as Signer

from webhooks import targets

USER_AGENT = "Tasklane-Webhooks/1"
RESPONSE_BODY_LIMIT = 1024  # what the delivery keeps of the answer
READ_LIMIT = 64 * 1024  # what an attempt reads at most before it stops listening
# What an attempt may run past its deadline: cancelling and closing the socket. The worker's
# lease covers the timeout plus far more than this (worker.lease_seconds).
OVERRUN = 1.0


@cache
def tls_context() -> ssl.SSLContext:
    """Built once per process, not per attempt: loading the CA bundle is the same work every
    time (bench/README.md has the figure)."""
    return ssl.create_default_context(cafile=certifi.where())


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(*, secret: str, event_id: str, body: str, at: datetime) -> str:
    """`v1,<base64 HMAC-SHA256>` of the Standard Webhooks message, keyed with `secret`."""
    return Signer(secret).sign(msg_id=event_id, timestamp=at, data=body)


def signed_headers(*, keys: list[str], event_id: str, body: str, at: datetime) -> dict[str, str]:
    """The `webhook-*` headers; one signature per secret, space-separated (a receiver
    accepts the request if any of them verifies with its secret)."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(
            signature(secret=secret, event_id=event_id, body=body, at=at) for secret in keys
        ),
    }


@dataclass
class Outcome:
    ok: bool
    status: int | None
    duration_ms: int
    body: str = ""
    error: str = ""


@dataclass
class _Answer:
    status: int | None = None
    received: bytes = b""


async def _post(url: str, *, headers: dict, content: bytes, extensions: dict, answer: _Answer):
    async with (
        httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=settings.WEBHOOKS_TIMEOUT,
            verify=tls_context(),
        ) as client,
        client.stream(
            "POST", url, content=content, headers=headers, extensions=extensions
        ) as response,
    ):
        answer.status = response.status_code
        received = bytearray()
        async for chunk in response.aiter_raw():
            received += chunk
            if len(received) >= READ_LIMIT:
                break
        answer.received = bytes(received)


async def _within(budget: float, coroutine) -> None:
    async with asyncio.timeout(budget):
        await coroutine


def send(*, url: str, keys: list[str], event_id: str, body: str) -> Outcome:
    """One attempt, signed with each of `keys` (secrets), over within `WEBHOOKS_TIMEOUT`."""
    started = time.monotonic()
    timeout = settings.WEBHOOKS_TIMEOUT
    deadline = started + timeout

    def outcome(ok=False, status=None, text="", error=""):
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(ok=ok, status=status, duration_ms=elapsed, body=text, error=error[:500])

    try:
        target = targets.parse(url)
        address = targets.delivery_address(target, timeout=min(targets.RESOLVE_TIMEOUT, timeout))
    except (targets.UnsafeTarget, targets.Unresolvable) as error:
        return outcome(error=str(error))

    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(keys=keys, event_id=event_id, body=body, at=datetime.now(UTC)),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    answer = _Answer()
    request = _post(
        target.url_for(address),
        headers=headers,
        content=body.encode(),
        extensions=extensions,
        answer=answer,
    )
    try:
        asyncio.run(_within(max(deadline - time.monotonic(), 0), request))
    except (TimeoutError, httpx.TimeoutException):
        if answer.status is not None:
            return outcome(status=answer.status, error="Timed out reading the answer.")
        return outcome(error=f"Timed out after {timeout:g} s.")
    except httpx.HTTPError as error:
        name = type(error).__name__
        return outcome(error=f"{name}: {error}" if str(error) else name)
    text = answer.received[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
    ok = 200 <= answer.status < 300
    return outcome(
        ok=ok, status=answer.status, text=text, error="" if ok else f"HTTP {answer.status}"
    )
