"""Redis over TLS with a self-signed certificate, as Heroku's Redis serves it (`rediss://`).

With REDIS_TLS_VERIFY=0 every Redis client of the app (cache, channel layer, socket leases,
readiness check, the worker's broker) connects, encrypted; by default a certificate that
cannot be verified is refused. A throwaway redis-server with its own certificate stands in.
"""

import json
import shutil
import subprocess
import time

import pytest
import redis

from tests.support.server import free_port
from tests.support.startup import SAFE_PRODUCTION, start

EVERY_CLIENT = """
import asyncio, django, json
django.setup()
from channels.layers import get_channel_layer
from config.celery import app
from core.health import check_cache, check_channel_layer
from projects import socket_slots

check_cache()
check_channel_layer()

async def round_trip():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "tls.check"})
    return (await layer.receive(channel))["type"]

event = asyncio.run(round_trip())
claimed = asyncio.run(socket_slots.claim(user_id=1, socket_id="tls-check"))
with app.connection_for_write() as connection:
    connection.ensure_connection(max_retries=1)
    print("RESULT", json.dumps([event, claimed, connection.transport_cls]))
"""


@pytest.fixture
def tls_redis(tmp_path):
    if shutil.which("redis-server") is None or shutil.which("openssl") is None:
        pytest.skip("needs redis-server and openssl on PATH")
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=self-signed-redis",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    with (tmp_path / "redis.log").open("wb") as log:
        process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                "0",
                "--tls-port",
                str(port),
                "--save",
                "",
                "--tls-cert-file",
                str(certificate),
                "--tls-key-file",
                str(key),
                "--tls-auth-clients",
                "no",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"rediss://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(url, ssl_cert_reqs="none").ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_every_redis_client_connects_to_a_self_signed_server_when_told_to(tls_redis):
    result = start(EVERY_CLIENT, **SAFE_PRODUCTION, REDIS_URL=tls_redis, REDIS_TLS_VERIFY="0")

    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    assert json.loads(line.removeprefix("RESULT ")) == ["tls.check", True, "rediss"]


def test_a_certificate_that_cannot_be_verified_is_refused_by_default(tls_redis):
    result = start(EVERY_CLIENT, **SAFE_PRODUCTION, REDIS_URL=tls_redis)

    assert result.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
