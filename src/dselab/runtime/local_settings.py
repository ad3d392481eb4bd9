"""Where a local cluster lives and which addresses, ports and heap it uses: one value.

Built from the environment by default (DSELAB_HOME, DSELAB_LOOPBACK, DSELAB_JMX_BASE,
DSELAB_HEAP_MB, DSELAB_NODE_PROFILE), or given explicitly, so one process can hold runtimes for several separate
clusters at once (one per classroom seat, say) without touching os.environ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dselab.errors import UsageError
from dselab.settings import HEAP_MB, JMX_BASE, JMX_SPAN, LOOPBACK, NODE_PROFILE, PROFILES, Settings, resolve

DEFAULT_LOOPBACK = "127.0.55"
DEFAULT_JMX_BASE = 7155
DEFAULT_HEAP_MB = 512
SMALL_HEAP_MB = 256
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
                             fix=f"set {LOOPBACK} to e.g. 127.0.55")
        if not 1024 <= self.jmx_base <= 65535 - JMX_SPAN:
            raise UsageError(f"JMX base port {self.jmx_base} is out of range",
                             fix=f"set {JMX_BASE} between 1024 and {65535 - JMX_SPAN}")
        if self.heap_mb < 256:
            raise UsageError(f"a heap of {self.heap_mb} MB is too small for Cassandra",
                             fix=f"set {HEAP_MB} to 256 or more (512 by default)")
        if self.profile not in PROFILES:
            raise UsageError(f"unknown node profile {self.profile!r}",
                             fix=f"set {NODE_PROFILE} to one of {', '.join(PROFILES)}")

    @classmethod
    def from_env(cls, config: Settings | None = None) -> LocalSettings:
        """What dselab's settings say (`config`, else the environment now: the tests move DSELAB_HOME)."""
        config = resolve(config)
        return cls(home=config.home, loopback=config.loopback, jmx_base=config.jmx_base,
                   heap_mb=config.heap, profile=config.node_profile)

    def cluster_root(self, cluster: str) -> Path:
        return self.home / "clusters" / cluster

    def address(self, index: int) -> str:
        return f"{self.loopback}.{index}"

