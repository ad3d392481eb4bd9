"""Class archives on real JVMs: a node stopped cleanly leaves the archive that the next start maps,
and nodetool's own command line accepts its archive (the JVM refuses to start with -Xshare:on if
the archive does not fit it). Local runtime only: docker's nodes are the image's JVMs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dselab import service
from dselab.runtime import preflight
from dselab.runtime.local import NODETOOL_MAIN, SERVER_MAIN, LocalRuntime

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.environ.get("DSELAB_RUNTIME") != "local", reason="local JVMs")]
NODE = "dse-node-2"


def maps(runtime: LocalRuntime, node: str, path: Path) -> bool:
    proc = runtime.process(node)
    assert proc is not None, f"{node} is not running"
    return str(path) in Path(f"/proc/{proc.pid}/maps").read_text()


def test_a_node_started_after_a_clean_stop_maps_the_shared_class_archive(lab_workspace: service.Workspace) -> None:
    runtime = lab_workspace.runtime
    assert isinstance(runtime, LocalRuntime)
    archive = runtime.archive_of(preflight.java_binary(runtime.config.java_home), SERVER_MAIN)
    # At most two clean restarts: one that dumps the archive at exit (a node started before there
    # was one), one that maps it.
    for _ in range(2):
        if archive.path.exists() and maps(runtime, NODE, archive.path):
            break
        runtime.stop_nodes([NODE])
        runtime.up_nodes([NODE])
    assert archive.path.is_file() and maps(runtime, NODE, archive.path)
    assert not list(archive.path.parent.glob("*.dump")), "every dump of a cleanly stopped node was put in place"
    status = {s.name: s.state for s in runtime.status()}
    assert status == {"dse-seed": "UN", "dse-node-1": "UN", "dse-node-2": "UN"}


def test_a_cold_nodetool_runs_on_its_class_archive(lab_workspace: service.Workspace) -> None:
    runtime = lab_workspace.runtime
    assert isinstance(runtime, LocalRuntime)
    spec = runtime.require_running("dse-seed")
    args = ["-h", "127.0.0.1", "-p", str(spec.jmx_port), "statusbackup"]
    first = runtime._java_tool(spec, NODETOOL_MAIN, args, ("nodetool", "statusbackup"), 120)  # dumps one if missing
    archive = runtime.archive_of(preflight.java_binary(runtime.config.java_home), NODETOOL_MAIN)
    assert archive.path.is_file()
    argv = runtime.tool_argv(spec, NODETOOL_MAIN, args)
    assert f"-XX:SharedArchiveFile={archive.path}" in argv
    forced = subprocess.run([argv[0], "-Xshare:on", *argv[1:]], capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr[-500:]
    assert forced.stdout == first.stdout and first.stdout.strip() in ("running", "not running")
