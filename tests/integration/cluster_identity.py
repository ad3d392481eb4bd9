"""What makes a lab cluster the same cluster: its ring (host ids and tokens as each node says of
itself) and dse-node-2's data still uncleaned on the older nodes (what the cleanup step cleans)."""

from __future__ import annotations

from typing import Any

from dselab import environment
from dselab.nodetool_output import parse_owns, parse_tablestats_partitions
from dselab.runtime.base import LAB_NODES, SEED

# A node may hold somewhat more than its share (estimates); dse-node-2's left data is far beyond it.
SLACK = 1.15


class Lines:
    """A progress that keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    def done(self, message: str) -> None:
        self.lines.append(message)


def ring(runtime: Any) -> dict[str, tuple[str, list[str]]]:
    """Address -> (host id, tokens) as each node says of itself."""
    out = {}
    for node in LAB_NODES:
        row = runtime.cql("SELECT host_id, tokens FROM system.local", node=node)[0]
        out[runtime.address(node)] = (str(row["host_id"]), sorted(row["tokens"]))
    return out


def uncleaned(runtime: Any) -> dict[str, dict[str, int]]:
    """Node -> table -> partitions held beyond the node's share (dse-node-2's left data)."""
    owns = parse_owns(runtime.nodetool(SEED, ["status", environment.KEYSPACE]).stdout)
    out: dict[str, dict[str, int]] = {}
    for node in LAB_NODES:
        stats = runtime.nodetool(node, ["tablestats", "-F", "json", environment.KEYSPACE]).stdout
        share = owns[runtime.address(node)]
        for table, partitions in parse_tablestats_partitions(stats, environment.KEYSPACE).items():
            extra = partitions - int(share * environment.PARTITIONS[table] * SLACK)
            if extra > 0:
                out.setdefault(node, {})[table] = extra
    return out
