"""Which `Origin` may open the events socket: the contract's rules, then the handshake."""

import pytest

from core.origins import origin_allowed
from tests.support.realtime import run_async


@pytest.fixture
def hosts(settings):
    settings.ALLOWED_HOSTS = [
        "testserver",
        "api.example.com",
        ".tasklane.dev",
        "127.0.0.1",
        "[::1]",
    ]
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.org", "http://localhost:3000"]
    return settings


def test_a_missing_origin_is_allowed(hosts):
    assert origin_allowed(None) is True


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.org", True),
        ("http://localhost:3000", True),
        # Exact scheme, host and port.
        ("http://app.example.org", False),
        ("https://app.example.org:8443", False),
        ("http://localhost:3001", False),
        ("http://localhost", False),
        ("https://localhost:3000", False),
        ("https://evil.app.example.org", False),
    ],
)
def test_cors_allowed_origins_match_exactly(hosts, origin, allowed):
    assert origin_allowed(origin) is allowed


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://api.example.com", True),
        ("http://api.example.com", True),
        ("http://api.example.com:8080", True),
        ("https://api.example.com:443", True),
        ("http://127.0.0.1:5173", True),
        ("http://[::1]:8000", True),
        ("https://API.Example.com", True),
        ("https://www.api.example.com", False),
        ("https://api.example.com.evil.net", False),
        ("https://example.com", False),
        ("http://127.0.0.2", False),
    ],
)
def test_http_origins_whose_host_is_allowed_match_on_any_port(hosts, origin, allowed):
    assert origin_allowed(origin) is allowed


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://tasklane.dev", True),
        ("https://app.tasklane.dev", True),
        ("https://a.b.tasklane.dev:9000", True),
        ("https://nottasklane.dev", False),
        ("https://tasklane.dev.evil.net", False),
    ],
)
def test_a_leading_dot_host_matches_its_subdomains(hosts, origin, allowed):
    assert origin_allowed(origin) is allowed


def test_a_star_in_allowed_hosts_is_not_honoured_for_origins(settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.CORS_ALLOWED_ORIGINS = []

    assert origin_allowed("https://evil.example.net") is False
    assert origin_allowed("http://localhost") is False
    assert origin_allowed(None) is True


@pytest.mark.parametrize(
    "origin",
    [
        "ws://api.example.com",
        "wss://api.example.com",
        "file://api.example.com",
        "file://",
        "ftp://api.example.com",
        "null",
        "",
        "api.example.com",
        "https://",
        "http://api.example.com:port",
        "http://api.example.com:99999",
        "http://api.example.com:-1",
    ],
)
def test_other_schemes_null_and_malformed_origins_are_refused(hosts, origin):
    assert origin_allowed(origin) is False


# --- the handshake --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@run_async
async def test_a_foreign_origin_is_refused_at_the_handshake(hosts, team, open_socket):
    connected, _ = await open_socket.raw(
        team.member.access, headers=[(b"origin", b"https://evil.example.net")]
    )

    assert connected is False


@pytest.mark.django_db(transaction=True)
@run_async
async def test_two_origin_headers_are_refused_at_the_handshake(hosts, team, open_socket):
    connected, _ = await open_socket.raw(
        team.member.access,
        headers=[(b"origin", b"https://app.example.org"), (b"origin", b"https://evil.net")],
    )

    assert connected is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "headers",
    [[], [(b"origin", b"https://app.example.org")], [(b"origin", b"https://api.example.com:8443")]],
    ids=["no_origin", "cors_origin", "allowed_host"],
)
@run_async
async def test_no_origin_or_an_allowed_one_is_accepted(hosts, team, headers, open_socket):
    socket = await open_socket(team.member.access, headers=headers)

    assert socket.ready["user_id"] == team.member.id
