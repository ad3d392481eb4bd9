"""Preconditions checked before any node starts (ccm's habit): Java, loopback addresses, free
ports, disk space.

Every problem is collected and reported at once, one line each, with the fix.
"""

from __future__ import annotations

import errno
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from dselab.errors import EnvironmentProblem
from dselab.settings import HOME, JMX_BASE, LOOPBACK

if TYPE_CHECKING:
    from dselab.runtime.local_config import NodeSpec

MIN_FREE_DISK_MB = 2048
SUPPORTED_JAVA = (11, 17)


@cache
def java_binary(java_home: str | None = None) -> str:
    """The java to run: JAVA_HOME's (settings.java_home) when it has one, else the one on PATH."""
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise EnvironmentProblem("no `java` on PATH", fix="install Java 17 (e.g. `apt-get install openjdk-17-jre-headless`)")
    return found


@cache
def java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _bind_errno(address: str, port: int) -> int | None:
    """None if this machine could listen on address:port now, else the errno bind gave."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as err:
            return err.errno or -1
    return None


def port_free(address: str, port: int) -> bool:
    return _bind_errno(address, port) is None


def unassigned(addresses: Sequence[str]) -> list[str]:
    """The addresses no interface here has (macOS answers on 127.0.0.1 alone until aliased)."""
    return [a for a in dict.fromkeys(addresses) if _bind_errno(a, 0) == errno.EADDRNOTAVAIL]


def platform() -> str:
    return sys.platform


def alias_problem(addresses: Sequence[str]) -> str:
    """What to run so the loopback interface answers on these addresses."""
    listed = ", ".join(addresses)
    if platform() == "darwin":
        commands = " && ".join(f"sudo ifconfig lo0 alias {a} up" for a in addresses)
        return (f"{listed} not assigned on this Mac (macOS answers on 127.0.0.1 alone until the "
                f"loopback is aliased): run `{commands}` once after each reboot")
    commands = " && ".join(f"sudo ip addr add {a}/8 dev lo" for a in addresses)
    return f"{listed} not assigned to any interface here: run `{commands}`"


def _problems(specs: Sequence[NodeSpec], native_port: int, disk_root: Path,
              java_home: str | None = None) -> list[str]:
    from dselab.runtime.local_config import STORAGE_PORT

    problems: list[str] = []
    missing = unassigned([spec.address for spec in specs])
    if missing:
        problems.append(alias_problem(missing))
    try:
        major = java_major(java_binary(java_home))
        if major not in SUPPORTED_JAVA:
            problems.append(
                f"Java {major} found; Cassandra 5.0 runs on Java 11 or 17 "
                "(set JAVA_HOME to a Java 17 install)"
            )
    except EnvironmentProblem as err:
        problems.append(err.one_line())
    for spec in specs:
        for port in (STORAGE_PORT, native_port):
            if spec.address not in missing and not port_free(spec.address, port):
                problems.append(
                    f"{spec.name}: port {spec.address}:{port} is taken "
                    f"(stop what uses it, or move the lab with {LOOPBACK}=127.0.x)"
                )
        if not port_free("127.0.0.1", spec.jmx_port):
            problems.append(
                f"{spec.name}: JMX port 127.0.0.1:{spec.jmx_port} is taken "
                f"(stop what uses it, or move the JMX ports with {JMX_BASE})"
            )
    disk_root.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(disk_root).free // (1 << 20)
    if free_mb < MIN_FREE_DISK_MB:
        problems.append(
            f"only {free_mb} MiB free under {disk_root}; the lab needs {MIN_FREE_DISK_MB} MiB "
            f"(free some space or point {HOME} elsewhere)"
        )
    return problems


def check_all(specs: Sequence[NodeSpec], native_port: int, disk_root: Path,
              java_home: str | None = None) -> None:
    problems = _problems(specs, native_port, disk_root, java_home)
    if problems:
        raise EnvironmentProblem("cannot start the cluster: " + "; ".join(problems))
