"""The host names a lab server answers to (against DNS rebinding), and whether an address is loopback.

A page on evil.example whose DNS name is re-pointed at 127.0.0.1 reaches the server with
`Host: evil.example`; answering only the names we serve under keeps such pages out.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def normalize(name: str) -> str:
    """A host name as compared: lower case, no brackets around IPv6, no trailing dot."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name.rstrip(".")


def host_name(header: str) -> str:
    """The name part of a `Host` header (`name`, `name:port`, `[v6]:port`); "" if malformed."""
    header = header.strip()
    if header.startswith("["):
        name, closed, rest = header[1:].partition("]")
        return normalize(name) if closed and (not rest or rest.startswith(":")) else ""
    name, _, _port = header.partition(":")
    return normalize(name)


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback IP addresses; any other name counts as reachable from outside."""
    name = normalize(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def machine_names() -> set[str]:
    """This machine's host name and the addresses it resolves to (what others type to reach it)."""
    hostname = socket.gethostname()
    names = {hostname}
    try:
        names |= {str(info[4][0]) for info in socket.getaddrinfo(hostname, None)}
    except OSError:
        pass
    return names


def served_names(bind_host: str, extra: Iterable[str] = (),
                 machine: Callable[[], set[str]] = machine_names) -> frozenset[str]:
    """The loopback names, the bound address, and `extra`; on a wildcard bind also this machine's names."""
    bound = normalize(bind_host)
    names = set(LOOPBACK_NAMES) | {bound} | {normalize(name) for name in extra}
    if bound in WILDCARDS:
        names |= {normalize(name) for name in machine()}
    return frozenset(names - WILDCARDS)
