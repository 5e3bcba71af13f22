"""The client-address rule on its own (the server tests show it end to end)."""

import pytest

from core.client_address import TrustedProxies, strip_port


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "client"),
    [
        (["*"], ["10.9.9.1", "198.51.100.8"], "198.51.100.8"),
        (["*"], ["198.51.100.8"], "198.51.100.8"),
        (["127.0.0.1"], ["10.9.9.1", "198.51.100.8"], "198.51.100.8"),
        (["127.0.0.1", "10.0.0.0/8"], ["192.0.2.1", "198.51.100.9", "10.1.2.3"], "198.51.100.9"),
        (["10.0.0.0/8"], ["10.0.0.1", "10.0.0.2"], "10.0.0.1"),  # every hop trusted
        (["*"], ["203.0.113.7:4711"], "203.0.113.7"),
        (["*"], ["[2001:db8::1]:4711"], "2001:db8::1"),
        (["2001:db8::/32"], ["2001:db8::1", "2001:db8::2"], "2001:db8::1"),
        (["127.0.0.1"], ["2001:db8::1", "2001:db8::2"], "2001:db8::2"),
        (["*"], ["", " "], None),
        (["*"], [], None),
    ],
)
def test_the_client_is_the_rightmost_entry_no_trusted_proxy_added(trusted, forwarded_for, client):
    assert TrustedProxies(trusted).client_from(forwarded_for) == client


def test_only_named_peers_are_trusted():
    trusted = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "unix-socket"])

    assert trusted.peer_is_trusted("10.2.3.4")
    assert trusted.peer_is_trusted("unix-socket")
    assert not trusted.peer_is_trusted("192.0.2.1")
    assert not trusted.peer_is_trusted(None)
    assert TrustedProxies(["*"]).peer_is_trusted("192.0.2.1")


@pytest.mark.parametrize(
    ("entry", "host"),
    [("1.2.3.4", "1.2.3.4"), (" 1.2.3.4:80 ", "1.2.3.4"), ("::1", "::1"), ("[::1]:80", "::1")],
)
def test_a_port_is_not_part_of_the_address(entry, host):
    assert strip_port(entry) == host
