"""Lab 05b on a real cluster: the restores its restore check must refuse, and the one it must pass.

One cluster walks the lab: steps 1-3 by their reference solutions (each checked), then every node
is restored from the snapshot plus its archive again and again, each time wrong in one way a
student might be: no replay at all (the snapshot only), every archived write replayed (no point
in time: a point past the bad deploy is the same replay, so it is not restored a third time), the
right restore on one node only. Each is refused for its own reason. Then the right restore on
every node passes. The test restores all its nodes at once (drained and stopped together, started
together): the verdicts depend on the files each node starts from, not on the order, and three
nodes start together in the time of about one. (`dselab test 05b`, in `make test`, proves the
page's own restore, typed node by node through the scripts, the others up.) Local runtime only: it
moves files of stopped nodes."""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from conftest import reset_training

from dselab import environment, service
from dselab.catalogue import get_lab
from dselab.errors import EnvironmentProblem
from dselab.lab_folder import working_folder
from dselab.runtime.base import LAB_NODES

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.environ.get("DSELAB_RUNTIME") != "local", reason="moves files of stopped local nodes")]
KS, TAG = environment.KEYSPACE, "pitr_base"
PROPERTIES = "commitlog_archiving.properties"


def properties(ws: service.Workspace, node: str, restore: str = "") -> None:
    data = ws.runtime.data_dir(node)
    (Path(data).parent / "conf" / PROPERTIES).write_text(
        f"archive_command=/bin/ln %path {data}/commitlog_archive/%name\n{restore}")


def up_again(ws: service.Workspace, nodes: tuple[str, ...]) -> None:
    """Start stopped nodes; a port a node just left may stay taken a few seconds on a busy machine."""
    for _ in range(12):
        try:
            ws.runtime.up_nodes(nodes)
            return
        except EnvironmentProblem as err:
            if "is taken" not in err.message:
                raise
            time.sleep(5)
    ws.runtime.up_nodes(nodes)


def restore(ws: service.Workspace, nodes: tuple[str, ...], point: str | None, replay: bool = True) -> None:
    """The page's restore on `nodes`, all at once: drain, stop, commit log aside, the snapshot's
    SSTables in place, the archive replayed (up to `point`, or all of it when None), start."""
    rt = ws.runtime
    with ThreadPoolExecutor(len(nodes)) as pool:  # drain first: the last commit log segments go to the archive
        drains = list(pool.map(lambda node: rt.nodetool(node, ["drain"], timeout=300), nodes))
    assert all(d.returncode == 0 for d in drains), [d.stderr for d in drains]
    rt.stop_nodes(nodes)
    for node in nodes:
        data = Path(rt.data_dir(node))
        aside = data.parent / "commitlog.before-restore"
        shutil.rmtree(aside, ignore_errors=True)
        (data.parent / "commitlog").rename(aside)
        (data.parent / "commitlog").mkdir()
        for table in (data / KS).iterdir():
            for f in table.iterdir():
                if f.is_file():
                    f.unlink()
            for f in (table / "snapshots" / TAG).iterdir():
                if f.name not in ("manifest.json", "schema.cql"):
                    shutil.copy2(f, table / f.name)
        lines = f"restore_command=/bin/cp -f %from %to\nrestore_directories={data}/commitlog_archive\n"
        properties(ws, node, (lines + (f"restore_point_in_time={point}\n" if point else "")) if replay else "")
    try:
        up_again(ws, nodes)
    finally:
        for node in nodes:
            properties(ws, node)


def verdict(ws: service.Workspace) -> tuple[str, str]:
    lab = get_lab("05b")
    result = service.check_one(ws, lab, lab.step("restore"))
    return result.status, result.message


def test_the_restore_check_refuses_each_wrong_restore_and_passes_the_right_one(lab_workspace: service.Workspace) -> None:
    ws = lab_workspace
    reset_training(ws)  # the environment's rows: the batches are told against them
    service.start_lab(ws, "05b")
    run = service.solve(ws, get_lab("05b"), ["archiving", "batch-a", "bad-deploy"], check=True)
    assert run.ok, [r.message for r in run.checks]
    noted = (working_folder(service.student_settings(ws)) / "restore-point.txt").read_text().strip()
    datetime.strptime(noted, "%Y:%m:%d %H:%M:%S")  # the form restore_point_in_time takes

    restore(ws, LAB_NODES, noted, replay=False)  # the snapshot only: batch A is lost too
    status, message = verdict(ws)
    assert status == "fail" and "batch A wrote it" in message, message

    restore(ws, LAB_NODES, None)  # every archived write replayed: the bad deploy comes back
    status, message = verdict(ws)
    assert status == "fail" and "the bad deploy (batch B)" in message, message

    restore(ws, LAB_NODES[:1], noted)  # right, on dse-seed only: the others still hold batch B
    status, message = verdict(ws)
    assert status == "fail" and "the bad deploy (batch B)" in message, message

    restore(ws, LAB_NODES, noted)
    status, message = verdict(ws)
    assert status == "pass", message
