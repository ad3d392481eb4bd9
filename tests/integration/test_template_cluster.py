"""The cluster template on a real cluster (issue 17, item 2): a cluster made from the template is
the same cluster as the one the template was made from (same data fingerprints, same ring, same
host ids, dse-node-2's data still uncleaned on the older nodes), and a template whose files were
changed is refused (a fresh `up` then makes it again: tests/unit/runtime/test_template.py).

No cluster of its own: the session's first `up` (conftest's lab_workspace) took the long way and
kept the template when none was there (CI: an empty cache), and recorded its ring and left data
before any test touched it. This test makes the session's cluster again from that template and
compares; the cluster it leaves is the session's from then on. With a template kept by an earlier
run, the comparison is between two clusters made from it (the progress lines say which).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cluster_identity import Lines, ring, uncleaned
from conftest import FIRST_UP, RUNTIME

from dselab import cluster, environment, service
from dselab.runtime.base import SEED
from dselab.runtime.factory import restore_runtime
from dselab.runtime.template import NODES, TemplateRefused, lab_template

pytestmark = pytest.mark.skipif(RUNTIME != "local", reason="templates are the local runtime's")


def fresh(ws: service.Workspace) -> list[str]:
    """`dselab down --purge` then `dselab start 05`: the progress lines."""
    restore_runtime(RUNTIME).down(purge=True)
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    lines = Lines()
    service.start_lab(ws, "05", lines)
    return lines.lines


def test_a_cluster_made_from_the_template_is_the_same_cluster(lab_workspace: service.Workspace) -> None:
    ws = lab_workspace
    if not ws.settings.template:
        pytest.skip("templates are off (DSELAB_TEMPLATE=0)")
    expected = {t: fp.to_dict() for t, fp in environment.expected_fingerprint().items()}
    runtime: Any = ws.runtime
    kept = lab_template(runtime, cluster.data_version())
    first = FIRST_UP
    assert any("keeping this cluster as template" in line or "made from template" in line
               for line in first["lines"]), first["lines"]
    assert kept.verify()["record"]["fingerprint"] == expected
    assert set(first["uncleaned"]) >= {SEED, "dse-node-1"}, first["uncleaned"]  # what the cleanup step cleans

    lines = fresh(ws)
    assert any("made from template" in line for line in lines), lines
    assert not any("keeping this cluster" in line for line in lines), lines
    assert cluster._fingerprint(ws.runtime, Lines()) == expected  # read at ALL, as bring_up reads it
    assert ring(ws.runtime) == first["ring"]
    assert uncleaned(ws.runtime) == first["uncleaned"]

    # A student writes into a live SSTable, so into the template's inode (hard links; with reflinks
    # the clone's write stays its own, so the template's file is changed instead): refused.
    data = Path(ws.runtime.data_dir(SEED))
    bodies = sorted((data / environment.KEYSPACE).glob("*/*-Data.db"))
    assert bodies
    victim = bodies[0] if bodies[0].stat().st_nlink >= 2 else kept.folder / NODES / SEED / bodies[0].relative_to(
        data.parent)
    size = victim.stat().st_size
    with victim.open("ab") as fh:
        fh.write(b"student was here")
    try:
        with pytest.raises(TemplateRefused, match="changed since the template was made"):
            kept.verify()
    finally:
        with victim.open("r+b") as fh:  # the same bytes again: later tests and `dselab test 05` reuse it
            fh.truncate(size)
    assert kept.verify()["record"]["fingerprint"] == expected
