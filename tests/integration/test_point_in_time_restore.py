"""Point-in-time restore on the local runtime (docs/point-in-time-restore.md), the recipe a future lab
step will teach, done with the runtime itself: commit-log archiving on every node, a snapshot, batch A,
a noted time, batch B, drain; then every node restored from the snapshot plus the archive up to the
noted time. Proven by the rows (all of A, none of B), their write times (A's, kept) and each node's
replay line. Local runtime only: it moves a node's files while the node is stopped."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dselab import service
from dselab.errors import EnvironmentProblem
from dselab.runtime.base import LAB_NODES

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.environ.get("DSELAB_RUNTIME") != "local", reason="moves files of stopped local nodes")]
KS, TAG, ROWS = "pitr", "pitr_base", 50
PROPERTIES = "commitlog_archiving.properties"


def node_home(ws: service.Workspace, node: str) -> Path:
    return Path(ws.runtime.data_dir(node)).parent


def archiving(ws: service.Workspace, node: str, restore: str = "") -> Path:
    """The node's archiving file (read from its classpath, conf/ first) and its archive folder."""
    home = node_home(ws, node)
    archive = home / "commitlog-archive"
    archive.mkdir(exist_ok=True)
    (home / "conf" / PROPERTIES).write_text(f"archive_command=/bin/ln %path {archive}/%name\n{restore}")
    return archive


def up_again(ws: service.Workspace) -> None:
    """Start the stopped nodes; a port a node just left may stay taken a few seconds on a busy machine."""
    for _ in range(12):
        try:
            ws.runtime.up_nodes(LAB_NODES)
            return
        except EnvironmentProblem as err:
            if "is taken" not in err.message:
                raise
            time.sleep(5)
    ws.runtime.up_nodes(LAB_NODES)


def restart_all(ws: service.Workspace) -> None:
    for node in LAB_NODES:
        ws.runtime.stop_node(node)
    up_again(ws)


def test_restore_to_a_noted_time_keeps_batch_a_only_with_its_write_times(lab_workspace: service.Workspace) -> None:
    ws, rt = lab_workspace, lab_workspace.runtime
    for node in LAB_NODES:
        archiving(ws, node)
    restart_all(ws)  # the file is read at start-up only
    rt.cql(f"CREATE KEYSPACE IF NOT EXISTS {KS} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}")
    rt.cql(f"CREATE TABLE IF NOT EXISTS {KS}.t (id int PRIMARY KEY, b text)")
    for node in LAB_NODES:
        assert rt.nodetool(node, ["snapshot", KS, "-t", TAG]).returncode == 0

    rt.cql_many(f"INSERT INTO {KS}.t (id, b) VALUES (?, 'A')", [(i,) for i in range(ROWS)])
    time.sleep(1.5)
    noted = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.5)
    rt.cql_many(f"INSERT INTO {KS}.t (id, b) VALUES (?, 'B')", [(i,) for i in range(ROWS, 2 * ROWS)])
    before = {r["id"]: r["wt"] for r in rt.cql(f"SELECT id, writetime(b) AS wt FROM {KS}.t", consistency="ALL")}
    assert len(before) == 2 * ROWS
    for node in LAB_NODES:
        assert rt.nodetool(node, ["drain"], timeout=300).returncode == 0
        assert list((node_home(ws, node) / "commitlog-archive").glob("CommitLog-*.log")), f"{node} archived nothing"

    point = noted.strftime("%Y:%m:%d %H:%M:%S")
    for node in LAB_NODES:
        rt.stop_node(node)
    marks = {}
    for node in LAB_NODES:
        home = node_home(ws, node)
        shutil.rmtree(home / "commitlog-aside", ignore_errors=True)
        (home / "commitlog").rename(home / "commitlog-aside")
        (home / "commitlog").mkdir()
        (table,) = (home / "data" / KS).glob("t-*")
        for f in table.iterdir():
            if f.is_file():
                f.unlink()
        for f in (table / "snapshots" / TAG).iterdir():
            if f.name not in ("manifest.json", "schema.cql"):
                shutil.copy2(f, table / f.name)
        archive = home / "commitlog-archive"
        archiving(ws, node, f"restore_command=/bin/cp -f %from %to\nrestore_directories={archive}\n"
                            f"restore_point_in_time={point}\n")
        marks[node] = rt.log_mark(node, debug=False)
    try:
        up_again(ws)
    finally:
        for node in LAB_NODES:
            archiving(ws, node)  # no restore at the next start

    limit = noted.timestamp() * 1_000_000
    for node in LAB_NODES:
        # The whole log since the mark (the runtime's reads keep the last 8 MiB; a start with nodes
        # still down can log megabytes of role-setup retries before the replay line is that far back).
        with (node_home(ws, node) / "logs" / "system.log").open("rb") as fh:
            fh.seek(marks[node])
            log = fh.read().decode("utf-8", "replace")
        assert "Replaying " in log and "commitlog/CommitLog-" in log, node
        assert f"Log replay complete, {ROWS} replayed mutations" in log, node  # batch A, not B
        rows = rt.cql(f"SELECT id, b, writetime(b) AS wt FROM {KS}.t", node=node, consistency="ONE")
        assert sorted(r["id"] for r in rows) == list(range(ROWS)), node  # all of A, none of B
        assert {r["b"] for r in rows} == {"A"}
        assert all(r["wt"] == before[r["id"]] and r["wt"] < limit for r in rows), node  # A's own write times
