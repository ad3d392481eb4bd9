"""The cluster template on a real cluster (issue 17, item 2): a cluster made from the template is
the same cluster as the one the template was made from (same data fingerprints, same ring, same
host ids, dse-node-2's data still uncleaned on the older nodes), and a template whose files were
changed is refused (a fresh `up` then makes it again: tests/unit/runtime/test_template.py).

Templates go to a folder of this test (DSELAB_TEMPLATE_DIR), never the machine's cache. The test's
clusters live in their own home and on their own addresses (127.0.61.x, JMX 9555+; moved by
DSELAB_TEMPLATE_TEST_LOOPBACK and DSELAB_TEMPLATE_TEST_JMX_BASE), so the session's lab cluster that
other tests share is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RUNTIME

from dselab import cluster, environment, service
from dselab.nodetool_output import parse_owns, parse_tablestats_partitions
from dselab.runtime.base import LAB_NODES, SEED
from dselab.runtime.template import NODES, TemplateRefused, lab_template
from dselab.settings import current

pytestmark = pytest.mark.skipif(RUNTIME != "local", reason="templates are the local runtime's")


class Lines:
    """A progress that keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    def done(self, message: str) -> None:
        self.lines.append(message)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[service.Workspace]:
    settings = current().replace(home=tmp_path / "home", template=True, template_dir=tmp_path / "templates",
                                 loopback=os.environ.get("DSELAB_TEMPLATE_TEST_LOOPBACK", "127.0.61"),
                                 jmx_base=int(os.environ.get("DSELAB_TEMPLATE_TEST_JMX_BASE", "9555")))
    ws = service.open_workspace(RUNTIME, settings=settings)
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    yield ws
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    ws.close()


def fresh(ws: service.Workspace) -> tuple[dict[str, Any], list[str]]:
    """`dselab down --purge` then `dselab up`: the record and the progress lines."""
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    lines = Lines()
    return cluster.bring_up(ws.runtime, ws.store, lines), lines.lines


def ring(ws: service.Workspace) -> dict[str, tuple[str, list[str]]]:
    """Address -> (host id, tokens) as each node says of itself."""
    out = {}
    for node in LAB_NODES:
        row = ws.runtime.cql("SELECT host_id, tokens FROM system.local", node=node)[0]
        out[ws.runtime.address(node)] = (str(row["host_id"]), sorted(row["tokens"]))
    return out


def uncleaned(ws: service.Workspace) -> dict[str, dict[str, int]]:
    """Node -> table -> partitions held beyond the node's share (dse-node-2's left data)."""
    owns = parse_owns(ws.runtime.nodetool(SEED, ["status", environment.KEYSPACE]).stdout)
    out: dict[str, dict[str, int]] = {}
    for node in LAB_NODES:
        stats = ws.runtime.nodetool(node, ["tablestats", "-F", "json", environment.KEYSPACE]).stdout
        share = owns[ws.runtime.address(node)]
        for table, partitions in parse_tablestats_partitions(stats, environment.KEYSPACE).items():
            extra = partitions - int(share * environment.PARTITIONS[table] * 1.15)
            if extra > 0:
                out.setdefault(node, {})[table] = extra
    return out


def live_fingerprint(ws: service.Workspace) -> dict[str, Any]:
    """The live data's fingerprint at ALL, read the way bring_up reads it (a timeout tried again)."""
    return cluster._fingerprint(ws.runtime, Lines())


def test_a_cluster_made_from_the_template_is_the_same_cluster(workspace: service.Workspace) -> None:
    ws = workspace
    expected = {t: fp.to_dict() for t, fp in environment.expected_fingerprint().items()}
    runtime: Any = ws.runtime
    kept = lab_template(runtime, cluster.data_version())

    cold, lines = fresh(ws)
    assert any("keeping this cluster as template" in line for line in lines), lines
    assert kept.verify()["record"]["fingerprint"] == cold["fingerprint"] == expected
    first_ring, first_left = ring(ws), uncleaned(ws)
    assert set(first_left) >= {SEED, "dse-node-1"}, first_left  # what the cleanup step cleans

    made, lines = fresh(ws)
    assert any("made from template" in line for line in lines), lines
    assert not any("keeping this cluster" in line for line in lines), lines
    assert set(made) == set(cold) and made["fingerprint"] == cold["fingerprint"]
    assert made["cassandra_version"] == cold["cassandra_version"]
    assert live_fingerprint(ws) == expected
    assert ring(ws) == first_ring
    assert uncleaned(ws) == first_left
    data = Path(ws.runtime.data_dir(SEED)) / environment.KEYSPACE
    bodies = list(data.glob("*/*-Data.db"))
    assert bodies
    # A student writes into a live SSTable, so into the template's inode (hard links; with reflinks
    # the clone's write stays its own, so the template's file is changed instead): refused, made again.
    victim = bodies[0] if bodies[0].stat().st_nlink >= 2 else kept.folder / NODES / SEED / bodies[0].relative_to(
        Path(ws.runtime.data_dir(SEED)).parent)
    with victim.open("ab") as fh:
        fh.write(b"student was here")
    with pytest.raises(TemplateRefused):
        kept.verify()
    # What a fresh `up` then does with it (refuse, remove, the long way, keep anew) is the long way
    # this test took first: tests/unit/runtime/test_template.py proves that path without a third cluster.
