"""A network namespace per seat: its own loopback, so every seat uses the lab's usual addresses
and ports (127.0.55.x, JMX 7155...) and no seat can reach another seat's nodes at all.

An unprivileged user cannot enter another namespace (setns needs CAP_SYS_ADMIN).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from dselab.errors import EnvironmentProblem

NETNS_DIR = Path("/run/netns")
PREFIX = "dselab-"


def netns_name(user: str) -> str:
    return PREFIX + user.split("-", 1)[-1]


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def create(name: str) -> None:
    """The namespace with its loopback up (idempotent)."""
    if not exists(name):
        _ip(["netns", "add", name])
    _ip(["-n", name, "link", "set", "lo", "up"])


def remove(name: str) -> None:
    if exists(name):
        _ip(["netns", "delete", name])


def pids(name: str) -> list[int]:
    if not exists(name):
        return []
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def inside(name: str, argv: Sequence[str]) -> list[str]:
    """argv run inside the namespace (as root: the caller drops to the seat user itself)."""
    return ["ip", "netns", "exec", name, *argv]


def _ip(args: list[str]) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise EnvironmentProblem(f"`ip {' '.join(args)}` failed: {proc.stderr.strip() or proc.returncode}")
