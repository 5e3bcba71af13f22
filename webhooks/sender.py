"""One delivery attempt: a Standard Webhooks request to a checked address.

The request carries only what it must: the JSON body and the `webhook-*` headers (never a
cookie, a credential or a header of the request that caused the event). Redirects are not
followed, the whole attempt is bounded by `WEBHOOKS_TIMEOUT`, and at most a few KiB of the
answer are read.
"""

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


@cache
def tls_context() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs about 0.2 s, more than a delivery."""
    return ssl.create_default_context(cafile=certifi.where())


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(*, secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id=event_id, timestamp=at, data=body),
    }


@dataclass
class Outcome:
    ok: bool
    status: int | None
    duration_ms: int
    body: str = ""
    error: str = ""


def send(*, url: str, secret: str, event_id: str, body: str) -> Outcome:
    started = time.monotonic()

    def outcome(ok=False, status=None, text="", error=""):
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(ok=ok, status=status, duration_ms=elapsed, body=text, error=error[:500])

    try:
        target = targets.parse(url)
        address = targets.delivery_address(target)
    except (targets.UnsafeTarget, targets.Unresolvable) as error:
        return outcome(error=str(error))

    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(secret=secret, event_id=event_id, body=body, at=datetime.now(UTC)),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = settings.WEBHOOKS_TIMEOUT
    deadline = started + timeout
    try:
        with (
            httpx.Client(
                follow_redirects=False, trust_env=False, timeout=timeout, verify=tls_context()
            ) as client,
            client.stream(
                "POST",
                target.url_for(address),
                content=body.encode(),
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            received = bytearray()
            for chunk in response.iter_raw():
                received += chunk
                if len(received) >= READ_LIMIT or time.monotonic() > deadline:
                    break
            if time.monotonic() > deadline:
                return outcome(status=response.status_code, error="Timed out reading the answer.")
            text = received[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
            ok = 200 <= response.status_code < 300
            error = "" if ok else f"HTTP {response.status_code}"
            return outcome(ok=ok, status=response.status_code, text=text, error=error)
    except httpx.TimeoutException:
        return outcome(error=f"Timed out after {timeout:g} s.")
    except httpx.HTTPError as error:
        name = type(error).__name__
        return outcome(error=f"{name}: {error}" if str(error) else name)
