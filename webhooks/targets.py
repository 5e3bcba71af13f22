"""Where a webhook may send: https URLs to public addresses only (SSRF defence).

A target is checked twice: when the webhook is saved (its URL, and the addresses its host
resolves to now) and at every delivery, when the host is resolved again and the request is
sent to the very address that was checked (DNS cannot change between the check and the
connection). `WEBHOOKS_ALLOW_INSECURE` admits plain http and `WEBHOOKS_ALLOW_PRIVATE` private
addresses, for development and tests only.
"""

import ipaddress
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

RESOLVE_TIMEOUT = 2.0  # at most, at delivery (and never more than the attempt's timeout)
RESOLVE_AT_CREATION = 1.0  # what an API request waits for DNS before it answers 400
HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Lookups run here, so that a slow resolver costs the caller its budget, never more.
_resolver = ThreadPoolExecutor(max_workers=16, thread_name_prefix="webhook-dns")

# IPv6 forms that carry an IPv4 address (RFC 6052, 3056, 4291, 2765): the address they reach
# is the embedded one, and that is the one checked. `64:ff9b:1::/48` is the local-use NAT64
# prefix (RFC 8215): a network's own translator, never a public destination, whatever it embeds.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


class UnsafeTarget(Exception):
    """The URL or the address it resolves to may not receive webhooks; the message says why."""


class Unresolvable(Exception):
    pass


class ResolveTimeout(Unresolvable):
    """The resolver did not answer within the budget."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (lower-cased), without brackets
    port: int
    path: str  # path and query, as written

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def url_for(self, address: str) -> str:
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def parse(url: str) -> Target:
    """The parts of a target URL, or UnsafeTarget saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("Enter a valid URL.") from None
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_INSECURE else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeTarget("The URL must use https.")
    if not parts.hostname:
        raise UnsafeTarget("Enter a valid URL.")
    if not _valid_host(parts.hostname.lower()):
        raise UnsafeTarget("Enter a valid URL: the host name is not valid.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL may not contain a user name or password.")
    if parts.fragment:
        raise UnsafeTarget("The URL may not contain a fragment (#...).")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        scheme=parts.scheme,
        host=parts.hostname.lower(),
        port=port or (443 if parts.scheme == "https" else 80),
        path=path,
    )


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, compatible,
    translated), or None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in (NAT64, IPV4_COMPATIBLE, IPV4_TRANSLATED)):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return False
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def _valid_host(host: str) -> bool:
    """An IP address, or a DNS name whose labels (after IDNA encoding) are 1 to 63 letters,
    digits and inner hyphens, 253 characters at most."""
    if _literal(host) is not None:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:  # an empty or over-long label, or a character IDNA refuses
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= 253 and all(HOST_LABEL.fullmatch(label) for label in labels)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def resolve(target: Target, *, timeout: float = RESOLVE_TIMEOUT) -> list[str]:
    """Every address the host resolves to within `timeout` seconds, or Unresolvable
    (ResolveTimeout when the resolver was too slow)."""
    literal = _literal(target.host)
    if literal is not None:
        return [literal]
    future = _resolver.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()  # if it is still queued behind slower lookups
        raise ResolveTimeout(f"{target.host} could not be resolved within {timeout:g} s.") from None
    except (OSError, ValueError) as error:  # ValueError: UnicodeError, NUL
        raise Unresolvable(f"{target.host} could not be resolved.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Unresolvable(f"{target.host} could not be resolved.")
    return addresses


def check_addresses(target: Target, addresses: list[str]) -> None:
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return
    for address in addresses:
        if not is_public(address):
            raise UnsafeTarget(
                f"{target.host} resolves to {address}, which is not a public address."
            )


def validate_url(url: str) -> str:
    """For the API: the URL's form, and the addresses its host has now. A host that does not
    resolve yet is accepted (it is resolved and checked again at every delivery); one whose
    resolver does not answer within `RESOLVE_AT_CREATION` is refused (UnsafeTarget), so that
    a slow resolver holds a request thread for a second at most."""
    target = parse(url)
    try:
        addresses = resolve(target, timeout=RESOLVE_AT_CREATION)
    except ResolveTimeout as error:
        raise UnsafeTarget(f"{error} Try again.") from None
    except Unresolvable:
        return url
    check_addresses(target, addresses)
    return url


def delivery_address(target: Target, *, timeout: float = RESOLVE_TIMEOUT) -> str:
    """The checked address to connect to for one delivery (UnsafeTarget, Unresolvable)."""
    addresses = resolve(target, timeout=timeout)
    check_addresses(target, addresses)
    return addresses[0]
