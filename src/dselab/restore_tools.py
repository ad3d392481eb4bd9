"""Student-facing helpers for the restore steps: run a command on a node, run sstableloader."""

from __future__ import annotations

from collections.abc import Sequence

from dselab.runtime.base import CommandResult
from dselab.service import Workspace


def node_exec(ws: Workspace, node: str, argv: Sequence[str]) -> CommandResult:
    return ws.runtime.exec(node, argv)


def run_sstableloader(ws: Workspace, node: str, args: Sequence[str]) -> CommandResult:
    """sstableloader next to `node`; `-d NODE` may name a node of either cluster."""
    addresses: dict[str, str] = {}
    for runtime in (ws.runtime, ws.runtime.for_cluster("restore")):
        addresses.update({n: runtime.address(n) for n in runtime.node_names()})
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg in ("-d", "--nodes"):
            out[i + 1] = ",".join(addresses.get(h, h) for h in out[i + 1].split(","))
    return ws.runtime.tool(node, "sstableloader", out)
