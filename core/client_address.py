"""The client's address and scheme behind trusted proxies: the one place that decides.

The server runs with `--no-proxy-headers`; this ASGI middleware sets the scope's `client`
(REMOTE_ADDR for Django: the throttles and the log's `ip`) and `scheme` from
`X-Forwarded-For` and `X-Forwarded-Proto`, and only when the connection comes from a proxy in
FORWARDED_ALLOW_IPS (addresses or networks; `*` for any).

Each proxy appends the address it received the connection from, so a client may write
whatever it likes on the left of `X-Forwarded-For` and only the right end is true. The
client is the rightmost entry that no trusted proxy added: walking from the right, the first
address that is not itself a trusted proxy. With `*` every connecting peer is trusted, but
nothing in the header is known to be a proxy: the client is the rightmost entry, the one the
platform's router appended. (uvicorn's own handling takes the leftmost entry with `*`, which
the client chose.) `X-Forwarded-Proto` follows the same rule: its rightmost value.
"""

import ipaddress

TRUST_EVERY_PEER = "*"


class TrustedProxies:
    def __init__(self, entries: list[str]):
        self.every_peer = TRUST_EVERY_PEER in entries
        self.networks = []
        self.names = set()  # anything else (a unix socket path, say) matches literally
        for entry in entries:
            if entry == TRUST_EVERY_PEER:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry)

    def is_listed(self, host: str) -> bool:
        """Whether `host` is a proxy named in the setting (`*` names none)."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.names
        return any(address in network for network in self.networks)

    def peer_is_trusted(self, host: str | None) -> bool:
        return host is not None and (self.every_peer or self.is_listed(host))

    def client_from(self, forwarded_for: list[str]) -> str | None:
        """The client's address in a forwarded-for list, oldest hop first."""
        hosts = [strip_port(entry) for entry in forwarded_for]
        hosts = [host for host in hosts if host]
        if not hosts:
            return None
        if self.every_peer:
            return hosts[-1]
        for host in reversed(hosts):
            if not self.is_listed(host):
                return host
        # Every hop is a trusted proxy: the first one is the client (a probe inside the
        # trusted network, say); each entry was written by a trusted proxy.
        return hosts[0]


def strip_port(entry: str) -> str:
    """`203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]:4711` or `2001:db8::1` -> the host."""
    entry = entry.strip()
    if entry.startswith("["):
        end = entry.find("]")
        return entry[1:end] if end > 0 else ""
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


def header_values(scope, name: bytes) -> list[str]:
    """Every comma-separated value of every `name` header line, in order."""
    values = []
    for key, value in scope.get("headers", []):
        if key == name:
            values.extend(part.strip() for part in value.decode("latin-1").split(","))
    return values


class ClientAddressMiddleware:
    def __init__(self, app, trusted: list[str]):
        self.app = app
        self.trusted = TrustedProxies(trusted)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if self.trusted.peer_is_trusted(peer[0] if peer else None):
                scope = dict(scope)
                client = self.trusted.client_from(header_values(scope, b"x-forwarded-for"))
                if client:
                    scope["client"] = (client, 0)
                protos = header_values(scope, b"x-forwarded-proto")
                if protos and protos[-1].lower() in ("http", "https"):
                    scheme = protos[-1].lower()
                    if scope["type"] == "websocket":
                        scheme = scheme.replace("http", "ws")
                    scope["scheme"] = scheme
        return await self.app(scope, receive, send)
