"""The server's own names and its access token: which Host and Origin names are this server's, the
``--allow-host`` and ``--token`` values, and the ready links ``backprop-lab serve`` prints."""
from __future__ import annotations

import ipaddress
import re
import secrets
import socket

WILDCARDS = frozenset({"", "0.0.0.0", "::"})
NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
TOKEN = re.compile(r"[A-Za-z0-9._~-]+")


def canonical(name: str) -> str | None:
    """A host name or IP address (no port, no brackets) in one spelling; None if it is neither."""
    name = name.strip().lower().rstrip(".")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name if NAME.fullmatch(name) else None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def host_of(authority: str) -> str | None:
    """The host of a Host header or URL authority (``name:port``, ``[v6]:port``); None if malformed."""
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        name, bracket, port = authority[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:]
    else:
        name, _, port = authority.partition(":")
    if port and not port.isdigit():
        return None
    return canonical(name)


def is_loopback(name: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    name = canonical(name) or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_host(text: str) -> str:
    """An ``--allow-host`` value (name, address, [v6], with or without port) in canonical spelling;
    ValueError saying what was expected."""
    text = text.strip()
    name = canonical(text) if text.count(":") > 1 and not text.startswith("[") else host_of(text)
    if name is None:
        raise ValueError(f"--allow-host takes a host name or IP address (like lab.school.example or "
                         f"192.168.1.20), without http:// or a path; got {text!r}")
    return name


def checked_token(token: str) -> str:
    """The token if it can travel in a link, a cookie and a header; ValueError otherwise."""
    if not TOKEN.fullmatch(token):
        raise ValueError("the access token must be letters, digits and . _ ~ - only, at least one; "
                         f"got {token!r}")
    return token


def new_token() -> str:
    """A fresh random access token (48 hex digits, as Jupyter's)."""
    return secrets.token_hex(24)


def _network_address() -> str | None:
    """This machine's address on its network, from its own host name (no packet is sent); None if
    the name resolves to loopback only."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return None
    for *_, address in infos:
        if not is_loopback(address[0]) and address[0] not in WILDCARDS:
            return address[0]
    return None


def links(settings, port: int) -> list[tuple[str, str]]:
    """Where to open the server, as (who, URL) pairs, with ``?token=`` when it needs one: names for
    other machines first (the allowed hosts, then the bind address or, on 0.0.0.0, this machine's
    network address), then this machine's loopback address when the server listens on it."""
    bind = settings.bind_host.strip()
    names = [("other machines", allowed_host(h)) for h in settings.allowed_hosts]
    if bind in WILDCARDS:
        names += [("other machines", a) for a in [_network_address()] if a]
        names.append(("this machine", "::1" if bind == "::" else "127.0.0.1"))
    else:
        names.append(("this machine" if is_loopback(bind) else "other machines", allowed_host(bind)))
    query = f"/?token={settings.token}" if settings.token else ""
    unique: dict[str, str] = {}
    for who, name in names:
        unique.setdefault(name, who)                    # each name once, where it first came
    return [(who, f"http://{f'[{n}]' if ':' in n else n}:{port}{query}") for n, who in unique.items()]
