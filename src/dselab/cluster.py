"""Bring the lab cluster up with the module 01 environment, whatever the runtime.

First time: dse-seed and dse-node-1 start, the training data is loaded, then dse-node-2
bootstraps into the ring (so the older nodes hold data they no longer own). The fingerprint of
the data and the moment dse-node-2 joined are recorded in the state store. Later calls only
start what is not running.
"""

from __future__ import annotations

import time
from typing import Any

from dselab import environment
from dselab.progress import Progress, Silent
from dselab.runtime.base import LAB_NODES, Runtime
from dselab.state import StateStore


def environment_record(store: StateStore) -> dict[str, Any] | None:
    return store.environment()


def bring_up(runtime: Runtime, store: StateStore, progress: Progress | None = None) -> dict[str, Any]:
    progress = progress or Silent()
    record = environment_record(store)
    if record is not None and runtime.exists():
        runtime.up()
        return record
    seed, node1, node2 = LAB_NODES
    runtime.up_nodes([seed, node1])
    wait_for_ring(runtime, seed, [seed, node1], progress)
    progress.step("creating keyspace training and loading its data (two nodes up)")
    environment.load(runtime, progress)
    progress.step("dse-node-2 bootstraps into the ring (streams its share of the data)")
    runtime.start_node(node2)
    record = {
        "loaded_at": time.time(),
        "node2_joined_at": time.time(),
        "fingerprint": {t: fp.to_dict() for t, fp in environment.fingerprint(runtime).items()},
        "cassandra_version": runtime.cassandra_version(),
    }
    store.set_environment(record)
    progress.done("environment ready: training keyspace on three nodes")
    return record


def wait_for_ring(runtime: Runtime, observer: str, nodes: list[str], progress: Progress,
                  timeout: float = 90) -> None:
    """Until `observer` sees every node of `nodes` up (UN): a node listening for CQL may not yet be
    alive in the seed's gossip, and the load writes at consistency ALL."""
    from dselab.nodetool_output import parse_status

    wanted = {runtime.address(n) for n in nodes}
    deadline = time.monotonic() + timeout
    while True:
        res = runtime.nodetool(observer, ["status"], timeout=60)
        up = {row.address for row in parse_status(res.stdout) if row.state == "UN"} if res.ok else set()
        if wanted <= up or time.monotonic() > deadline:
            return  # past the deadline the load itself reports what is wrong
        progress.step(f"waiting for {observer} to see {', '.join(sorted(wanted - up))} up")
        time.sleep(1)

