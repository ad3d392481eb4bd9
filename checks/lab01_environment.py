"""Checks of lab 01, the environment: three nodes up and the training data in place."""

from __future__ import annotations

from dselab import environment
from dselab.check_engine import CheckContext, check
from dselab.runtime.base import LAB_NODES

LAB = "01-environment"


@check(LAB, "cluster")
def cluster_ready(ctx: CheckContext) -> None:
    down = [n for n in LAB_NODES if not ctx.runtime.is_running(n)]
    if down:
        raise ctx.failed(f"not running: {', '.join(down)}", hint="./scripts/up-cluster.sh")
    rows = ctx.runtime.status()
    ctx.note(status=[f"{r.name} {r.address} {r.state}" for r in rows])
    not_up = [r.name for r in rows if r.state != "UN"]
    if not_up:
        raise ctx.failed(f"not Up/Normal in the ring: {', '.join(not_up)}", hint="wait a moment and check again")
    actual = environment.fingerprint(ctx.runtime)
    expected = environment.expected_fingerprint()
    wrong = [t for t in environment.TABLES if actual[t].rows < expected[t].rows]
    if wrong:
        raise ctx.failed(f"training data incomplete in {', '.join(wrong)}", hint="./scripts/up-cluster.sh")
    raise ctx.passed("three nodes are UN and keyspace training holds its data")
