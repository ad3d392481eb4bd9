"""Module 05 on a real cluster: the module's commands typed verbatim through scripts/, their real
effects on disk and in nodetool, every failing variant of the checks with its own message, and
bad input ending in one line and a non-zero exit. Tests run in file order and share one cluster."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from dselab import environment, service
from dselab.lab import get_lab
from dselab.lab_folder import working_folder
from dselab.runtime.base import LAB_NODES, SEED

pytestmark = pytest.mark.integration
RUNTIME = os.environ["DSELAB_RUNTIME"]  # set by conftest: local, or docker under `make test-docker`


def started(ws: service.Workspace) -> list[object]:
    """What changes when a node restarts: its pid (local) or its container's start time (docker)."""
    return [s.pid or s.extra.get("started_at") for s in ws.runtime.status()]


def check(ws: service.Workspace, step: str):
    (result,) = service.check(ws, "05", [step])
    return result


def training_data_bytes(ws: service.Workspace, node: str) -> int:
    return sum(e.size for e in ws.runtime.list_files(node, "training")
               if e.path.count("/") == 2 and e.path.endswith("-Data.db"))


def test_three_nodes_up_with_training_data(lab_workspace, student):
    rows = json.loads(student.run("dselab status --json"))
    assert [(r["name"], r["state"]) for r in rows] == [(n, "UN") for n in LAB_NODES]
    assert all(r["version"].startswith("5.0") for r in rows)
    actual = environment.fingerprint(lab_workspace.runtime)
    assert actual == environment.expected_fingerprint()


def test_up_cluster_is_idempotent(lab_workspace, student):
    before = started(lab_workspace)
    assert all(before)
    student.run("./scripts/up-cluster.sh")
    assert started(lab_workspace) == before  # nothing restarted
    opened = student.run("dselab start 05")  # what `make lab` runs
    assert started(lab_workspace) == before
    assert "Take a snapshot of the training keyspace" in opened and "/labs/05/1" in opened


def test_snapshot_check_fails_each_variant_with_its_own_message(lab_workspace, student):
    ws = lab_workspace
    assert "no snapshot named lab_backup" in check(ws, "snapshot").message

    student.run("./scripts/nodetool.sh snapshot training -t lab-backup")
    assert "must be exactly 'lab_backup'" in check(ws, "snapshot").message
    student.run("./scripts/nodetool.sh clearsnapshot training -t lab-backup")

    student.run("./scripts/nodetool.sh snapshot system_schema -t lab_backup")
    assert "for keyspace system_schema, not for training" in check(ws, "snapshot").message
    student.run("./scripts/nodetool.sh clearsnapshot system_schema -t lab_backup")

    student.run("./scripts/nodetool-node.sh dse-node-1 snapshot training -t lab_backup")
    result = check(ws, "snapshot")
    assert "taken on dse-node-1" in result.message and "nodetool.sh snapshot" in result.hint
    student.run("./scripts/nodetool-node.sh dse-node-1 clearsnapshot training -t lab_backup")

    # A hand-made folder with an empty manifest in every table: not a nodetool snapshot.
    student.run("./scripts/node-exec.sh dse-seed sh -c "
                "'for t in training/*/; do mkdir -p \"$t\"snapshots/lab_backup; "
                "echo {\\\"files\\\":[]} > \"$t\"snapshots/lab_backup/manifest.json; done'")
    result = check(ws, "snapshot")
    assert result.status == "fail"
    assert "by hand" in result.message or "lists no files" in result.message
    student.run("./scripts/node-exec.sh dse-seed sh -c 'rm -rf training/*/snapshots/lab_backup'")

    # A real snapshot whose manifest was emptied afterwards.
    student.run("./scripts/nodetool.sh snapshot training -t lab_backup")
    student.run("./scripts/node-exec.sh dse-seed sh -c "
                "'for f in training/orders-*/snapshots/lab_backup/manifest.json; do echo {\\\"files\\\":[]} > \"$f\"; done'")
    assert "manifest.json of lab_backup for orders on dse-seed lists no files" in check(ws, "snapshot").message
    student.run("./scripts/nodetool.sh clearsnapshot training -t lab_backup")


def test_module_commands_verbatim_pass_steps_1_to_5(lab_workspace, student):
    ws = lab_workspace
    service.start_lab(ws, "05")  # new baseline: nothing done yet in this run

    student.run("./scripts/nodetool.sh snapshot training -t lab_backup")
    for entry_table in environment.TABLES:
        files = [e.path for e in ws.runtime.list_files(SEED, "training")
                 if "/snapshots/lab_backup/" in e.path and e.path.startswith(f"training/{entry_table}-")]
        assert any(p.endswith("-Data.db") for p in files), f"no Data.db in lab_backup of {entry_table}"
    assert check(ws, "snapshot").passed

    listing = student.run("./scripts/nodetool.sh listsnapshots")
    assert "lab_backup" in listing
    assert not check(ws, "list").passed  # no answer given yet
    service.record_answer(ws, get_lab("05"), get_lab("05").step("2"), "1 bytes")
    assert "is not the size on disk" in check(ws, "list").message
    row = next(line.split() for line in listing.splitlines() if line.startswith("lab_backup") and " orders " in line)
    service.record_answer(ws, get_lab("05"), get_lab("05").step("2"), f"{row[5]} {row[6]}")
    assert check(ws, "list").passed

    student.run("./scripts/nodetool.sh enablebackup")
    assert student.run("./scripts/nodetool.sh statusbackup").strip() == "running"
    assert check(ws, "incremental").passed

    student.run("./scripts/nodetool.sh snapshot training -t keep_me")
    student.run("./scripts/nodetool.sh clearsnapshot training -t lab_backup")
    assert check(ws, "clear").passed

    before = {n: training_data_bytes(ws, n) for n in LAB_NODES}
    assert "cleanup has not run on dse-seed, dse-node-1, dse-node-2" in check(ws, "cleanup").message
    student.run("./scripts/nodetool.sh cleanup")
    student.run("./scripts/nodetool-node.sh dse-node-1 cleanup")
    result = check(ws, "cleanup")
    assert result.message == "cleanup has not run on dse-node-2 since the lab started"
    assert result.hint == "./scripts/nodetool-node.sh dse-node-2 cleanup"
    after = {n: training_data_bytes(ws, n) for n in LAB_NODES}
    for older in ("dse-seed", "dse-node-1"):  # they dropped the ranges dse-node-2 took over
        assert after[older] < 0.85 * before[older], (older, before[older], after[older])

    student.run("./scripts/nodetool.sh snapshot training -t before_last_cleanup")
    student.run("./scripts/nodetool-node.sh dse-node-2 cleanup")
    assert "no training snapshot on dse-seed was taken after it" in check(ws, "cleanup").message
    student.run("./scripts/nodetool.sh snapshot training -t after_cleanup")
    assert check(ws, "cleanup").passed


def test_clearing_every_snapshot_fails_step_4(lab_workspace, student):
    ws = lab_workspace
    student.run("./scripts/nodetool.sh snapshot training -t lab_backup")
    assert check(ws, "snapshot").passed  # records the snapshots present at step 1
    student.run("./scripts/nodetool.sh clearsnapshot --all training")
    assert "other snapshots were removed too" in check(ws, "clear").message


@pytest.mark.parametrize("command, expected", [
    ("./scripts/nodetool-node.sh dse-node-9 status", "unknown node 'dse-node-9'"),
    ("./scripts/nodetool.sh snapshot training -t 'x;rm -rf /'", "snapshot tag 'x;rm -rf /' is not allowed"),
    ("./scripts/nodetool.sh snapshot training -t ../escape", "snapshot tag '../escape' is not allowed"),
    ("dselab check 06", "no lab '06'; valid labs: 01 (01-environment), 05 (05-backup-restore)"),
    ("dselab check 05 12 nope", "lab 05 has no step '12', 'nope'; valid steps: 1 (snapshot)"),
    ("dselab answer 05 1 7", "step 1 (snapshot) takes no answer"),
    ("dselab answer 05 2 '$(reboot)'", "an answer is 1-64 letters"),
])
def test_bad_input_is_one_line_and_exit_2(student, command, expected):
    code, out, err = student.run_status(command)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(RUNTIME != "local", reason="an empty DSELAB_HOME is a down cluster only for local processes")
def test_cluster_down_is_a_clear_error(student, tmp_path):
    env = {**service.student_env("local"), "DSELAB_HOME": str(tmp_path)}
    proc = subprocess.run(["dselab", "check", "05", "1"], cwd=working_folder(), env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "the lab cluster is down" in proc.stdout and "up-cluster.sh" in proc.stdout
    proc = subprocess.run(["./scripts/nodetool.sh", "status"], cwd=working_folder(), env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cluster is down" in proc.stderr


def test_node_that_died_mid_step_is_named(lab_workspace, student):
    ws = lab_workspace
    ws.runtime.kill_node("dse-node-2")
    try:
        result = check(ws, "snapshot-all")  # reads listsnapshots on every node
        assert result.status == "error"
        assert "dse-node-2 is not running" in result.message
        assert "dselab node start dse-node-2" in result.hint
        code, _out, err = student.run_status("./scripts/nodetool-node.sh dse-node-2 status")
        assert code == 2 and "dse-node-2 is not running" in err
    finally:
        student.run("dselab node start dse-node-2")
    assert all(s.state == "UN" for s in ws.runtime.status())


@pytest.mark.skipif(os.environ.get("DSELAB_SKIP_FULL") == "1", reason="full sequence disabled")
def test_full_sequence_restores_exactly_what_was_backed_up(lab_workspace):
    """Steps 6-11 by their reference solutions: both restores equal the deterministic data."""
    ws = lab_workspace
    for step in ("snapshot-all", "incremental-files", "loss", "restore", "new-cluster", "disable-backup"):
        assert not check(ws, step).passed, f"{step} passed before its solve"
        service.solve(ws, "05", [step])
        result = check(ws, step)
        assert result.passed, (step, result.message)
    from dselab.runtime.select import restore_runtime

    expected = environment.expected_fingerprint(with_new_rows=True)
    assert environment.fingerprint(ws.runtime) == expected
    target = restore_runtime(RUNTIME)
    assert environment.fingerprint(target, node=target.node_names()[0]) == expected
    final = service.check_end_of_lab(ws, get_lab("05"))
    assert final is not None and final.passed, final  # what `dselab test 05` verifies after the last step
