"""Where a local cluster lives and which addresses, ports and heap it uses: one value.

Built from the environment by default (DSELAB_HOME, DSELAB_LOOPBACK, DSELAB_JMX_BASE,
DSELAB_HEAP_MB, DSELAB_NODE_PROFILE), or given explicitly, so one process can hold runtimes for several separate
clusters at once (one per classroom seat, say) without touching os.environ.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dselab import paths
from dselab.errors import UsageError

DEFAULT_LOOPBACK = "127.0.55"
DEFAULT_JMX_BASE = 7155
DEFAULT_HEAP_MB = 512
SMALL_HEAP_MB = 256
PROFILES = ("default", "small")  # node settings: local_config.SMALL_NODE_YAML / SMALL_NODE_JVM
JMX_SPAN = 300  # node i of a cluster listens for JMX on jmx_base + 100 * i, i <= 3
_PREFIX = re.compile(r"127\.(\d{1,3})\.(\d{1,3})")


@dataclass(frozen=True)
class LocalSettings:
    home: Path  # clusters live in home/clusters/<cluster>/
    loopback: str = DEFAULT_LOOPBACK  # the first three octets; nodes take .1 to .4
    jmx_base: int = DEFAULT_JMX_BASE
    heap_mb: int = DEFAULT_HEAP_MB
    profile: str = "default"

    def __post_init__(self) -> None:
        match = _PREFIX.fullmatch(self.loopback)
        if not match or any(int(octet) > 255 for octet in match.groups()):
            raise UsageError(f"loopback prefix {self.loopback!r} is not of the form 127.X.Y",
                             fix="set DSELAB_LOOPBACK to e.g. 127.0.55")
        if not 1024 <= self.jmx_base <= 65535 - JMX_SPAN:
            raise UsageError(f"JMX base port {self.jmx_base} is out of range",
                             fix=f"set DSELAB_JMX_BASE between 1024 and {65535 - JMX_SPAN}")
        if self.heap_mb < 256:
            raise UsageError(f"a heap of {self.heap_mb} MB is too small for Cassandra",
                             fix="set DSELAB_HEAP_MB to 256 or more (512 by default)")
        if self.profile not in PROFILES:
            raise UsageError(f"unknown node profile {self.profile!r}",
                             fix=f"set DSELAB_NODE_PROFILE to one of {', '.join(PROFILES)}")

    @classmethod
    def from_env(cls) -> LocalSettings:
        """What the environment says now (read at each call: the tests move DSELAB_HOME)."""
        profile = (os.environ.get("DSELAB_NODE_PROFILE") or "default").strip().lower()
        return cls(
            home=paths.home(),
            loopback=os.environ.get("DSELAB_LOOPBACK", DEFAULT_LOOPBACK),
            jmx_base=_whole_number("DSELAB_JMX_BASE", DEFAULT_JMX_BASE),
            heap_mb=_whole_number("DSELAB_HEAP_MB", SMALL_HEAP_MB if profile == "small" else DEFAULT_HEAP_MB),
            profile=profile,
        )

    def cluster_root(self, cluster: str) -> Path:
        return self.home / "clusters" / cluster

    def address(self, index: int) -> str:
        return f"{self.loopback}.{index}"


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number", fix=f"set {name} to e.g. {default}, or unset it") from None
