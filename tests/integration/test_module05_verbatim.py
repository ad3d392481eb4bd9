"""Module 05's text as a test: every command of the module, typed in its order through scripts/,
once with the module's nodetool (the DSE 5.1 generation's, Cassandra 3.11's) and once with the
nodes' own (5.0), on one real cluster, each with the effect the module describes.

The module's one Docker-only command (`docker compose exec dse-seed find /var/lib/cassandra -type d
-name "snapshots"`) is typed as written on the docker runtime (DSELAB_TEST_RUNTIME=docker, `make
test-docker`), in its local-runtime form (`./scripts/node-exec.sh dse-seed find ...`) on the local one.
On docker a container runs its image's nodetool (nodetool_choice), so only the native pass runs there.
The 3.11 pass also writes what that client really printed against a 5.0 node: into
build/test-artifacts/client-3.11/, and with DSELAB_WRITE_FIXTURES=1 into tests/unit/fixtures/client-3.11/
(the unit tests' fixtures of that form are made this way, never by hand).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dselab import environment, nodetool_choice, service
from dselab.catalogue import get_lab
from dselab.nodetool_output import parse_listsnapshots, parse_status, parse_statusbackup
from dselab.runtime.base import LAB_NODES, SEED

if TYPE_CHECKING:  # the `student` fixture's class; not imported at run time: under `make test-docker`
    from conftest import Student  # the module named conftest is tests/docker_runtime's

pytestmark = pytest.mark.integration
RUNTIME = os.environ["DSELAB_RUNTIME"]  # set by conftest: local, or docker under `make test-docker`
CHECKOUT = Path(__file__).resolve().parents[2]
ARTIFACTS = CHECKOUT / "build" / "test-artifacts"
KS = environment.KEYSPACE
FIXTURES = CHECKOUT / "tests" / "unit" / "fixtures" / "client-3.11"
# The module's command as written (docker), and the local runtime's form of it.
FIND_SNAPSHOTS = {"docker": 'docker compose exec dse-seed find /var/lib/cassandra -type d -name "snapshots"',
                  "local": './scripts/node-exec.sh dse-seed find . -type d -name "snapshots"'}
DATA_DIR = {"docker": "/var/lib/cassandra/data", "local": "."}  # where find's lines of a keyspace start
# The 3.11 client runs only on the local runtime; a container runs its image's nodetool.
CLIENTS = [nodetool_choice.LEGACY, nodetool_choice.NATIVE] if RUNTIME == "local" else [nodetool_choice.NATIVE]

# `docker compose` (v2) on a machine whose Docker has only the standalone docker-compose (v1), as CI's
# Debian 12 does: a CLI plugin handing the command to v1, with v2's one default that v1 lacks (exec
# allocates no TTY when the output is not a terminal).
COMPOSE_PLUGIN = """#!/bin/sh
if [ "$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion": "0.1.0", "Vendor": "dselab tests", "ShortDescription": "docker-compose v1 as docker compose"}'
  exit 0
fi
shift
if [ "$1" = exec ] && [ ! -t 1 ]; then shift; set -- exec -T "$@"; fi
exec %s "$@"
"""


def typed(student: Student, command: str) -> tuple[int, str, str]:
    return student.run_status(command)


def ok(student: Student, command: str) -> str:
    code, out, err = typed(student, command)
    assert code == 0, f"{command}: exit {code}\n{out}\n{err}"
    assert "Cannot initialize un-mmaper" not in err and "Exception" not in err, err
    return out


def snapshot_tags(ws: service.Workspace, node: str = SEED) -> set[tuple[str, str]]:
    """(tag, keyspace) pairs the node lists, read with the runtime's own nodetool (as the checks do)."""
    return {(r.tag, r.keyspace) for r in parse_listsnapshots(ws.runtime.nodetool(node, ["listsnapshots"]).stdout)}


def check(ws: service.Workspace, step: str) -> service.CheckResult:
    (result,) = service.check(ws, "05", [step])
    return result


def capture(name: str, text: str) -> None:
    """What the 3.11 client printed, kept as a fixture of its real form."""
    for folder in [ARTIFACTS / "client-3.11", *([FIXTURES] if os.environ.get("DSELAB_WRITE_FIXTURES") == "1" else [])]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def fresh_run(ws: service.Workspace) -> None:
    """No snapshot, no backup, log marks now: each pass starts where the module does."""
    for node in LAB_NODES:
        ws.runtime.nodetool(node, ["clearsnapshot", "--all"])
        ws.runtime.nodetool(node, ["disablebackup"])
    service.record_baseline(ws, get_lab("05"))


@pytest.fixture(scope="module")
def docker_shell(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the student's shell needs besides dselab's settings for `docker compose`: nothing where
    the compose plugin answers, else DOCKER_CONFIG with the plugin above (the engine's DOCKER_HOST
    comes with the process's environment, as a student's terminal has it)."""
    if RUNTIME != "docker":
        return {}
    if subprocess.run(["docker", "compose", "version"], capture_output=True, stdin=subprocess.DEVNULL).returncode == 0:
        return {}
    legacy = shutil.which("docker-compose")
    assert legacy, "neither `docker compose` nor docker-compose is installed"
    config = tmp_path_factory.mktemp("docker-config")
    plugin = config / "cli-plugins" / "docker-compose"
    plugin.parent.mkdir()
    plugin.write_text(COMPOSE_PLUGIN % legacy)
    plugin.chmod(0o755)
    return {"DOCKER_CONFIG": str(config)}


@pytest.fixture(params=CLIENTS, ids=[f"nodetool-{'3.11' if c == nodetool_choice.LEGACY else 'native'}" for c in CLIENTS])
def client_student(request: pytest.FixtureRequest, lab_workspace: service.Workspace, student: Student,
                   docker_shell: dict[str, str]) -> Student:
    fresh_run(lab_workspace)
    student.settings = student.settings.replace(nodetool=request.param)
    student.shell_env = docker_shell
    return student


def test_the_lab_uses_the_modules_nodetool_by_default(lab_workspace: service.Workspace) -> None:
    assert get_lab("05").nodetool == nodetool_choice.LEGACY
    if lab_workspace.settings is None or lab_workspace.settings.nodetool is None:
        forms = service.template_vars(lab_workspace)
        # On docker the pages follow the image's nodetool: 3.11's on DSE 5.1, 5.0's on the stand-in.
        assert forms["client_legacy"] is (True if RUNTIME == "local" else forms["legacy"])


def test_every_module_command_in_its_order(lab_workspace: service.Workspace, client_student: Student) -> None:
    ws, student = lab_workspace, client_student
    legacy = student.settings.nodetool == nodetool_choice.LEGACY

    # Prerequisites: the cluster is up (returns at once), the training keyspace holds its data.
    ok(student, "./scripts/up-cluster.sh")
    status = ok(student, "./scripts/nodetool.sh status")
    assert [r.state for r in parse_status(status, strict=True)] == ["UN"] * 3
    if legacy:
        capture("status.txt", status)
        capture("describecluster.txt", ok(student, "./scripts/nodetool.sh describecluster"))
        # The one command of the lab's world that 3.11 cannot run against 5.0 (no step asks for it).
        code, out, err = typed(student, "./scripts/nodetool.sh tablestats training")
        assert code != 0 and "InstanceNotFoundException" in err, (code, out, err)
        capture("tablestats-error.txt", err.split("-- StackTrace --")[0])

    # Snapshot: create, list, find on disk.
    ok(student, "./scripts/nodetool.sh snapshot training -t before_repair_lab")
    assert {("before_repair_lab", KS)} <= snapshot_tags(ws)
    listed = ok(student, "./scripts/nodetool.sh listsnapshots")
    assert {r.table for r in parse_listsnapshots(listed) if r.tag == "before_repair_lab"} == set(environment.TABLES)
    found = ok(student, FIND_SNAPSHOTS[RUNTIME])
    ours = [line for line in found.splitlines() if line.startswith(f"{DATA_DIR[RUNTIME]}/{KS}/")]
    assert len(ours) == len(environment.TABLES) and all(line.endswith("/snapshots") for line in ours), found

    # Snapshot all keyspaces (the date in the tag comes from the student's shell).
    days = {time.strftime("%Y%m%d")}
    ok(student, "./scripts/nodetool.sh snapshot -t full_backup_$(date +%Y%m%d)")
    days.add(time.strftime("%Y%m%d"))  # the shell's day: a run may cross midnight
    tags = snapshot_tags(ws)
    full = {tag for tag, ks in tags if ks == KS and tag in {f"full_backup_{day}" for day in days}}
    assert len(full) == 1, full
    full_backup = full.pop()
    keyspaces = {ks for tag, ks in tags if tag == full_backup}
    assert {KS, "system", "system_schema"} <= keyspaces
    if legacy:
        capture("listsnapshots.txt", ok(student, "./scripts/nodetool.sh listsnapshots"))
        capture("statusbackup-not-running.txt", ok(student, "./scripts/nodetool.sh statusbackup"))

    # Clear old snapshots: by tag, then every snapshot of the keyspace.
    ok(student, "./scripts/nodetool.sh clearsnapshot training -t before_repair_lab")
    tags = snapshot_tags(ws)
    assert ("before_repair_lab", KS) not in tags and (full_backup, KS) in tags
    code, out, err = typed(student, "./scripts/nodetool.sh clearsnapshot training")
    if legacy:  # DSE 5.1's form: every snapshot of training goes, the other keyspaces' stay
        assert code == 0, err
        tags = snapshot_tags(ws)
        assert not {t for t in tags if t[1] == KS} and (full_backup, "system") in tags
    else:  # 5.0's nodetool refuses the bare form and removes nothing
        assert code != 0 and "Specify snapshot name or --all" in out + err
        assert (full_backup, KS) in snapshot_tags(ws)

    # Incremental backup: enable, status, disable.
    ok(student, "./scripts/nodetool.sh enablebackup")
    running = ok(student, "./scripts/nodetool.sh statusbackup")
    assert parse_statusbackup(running) is True
    assert parse_statusbackup(ws.runtime.nodetool(SEED, ["statusbackup"]).stdout) is True
    if legacy:
        capture("statusbackup-running.txt", running)
    ok(student, "./scripts/nodetool.sh disablebackup")
    assert parse_statusbackup(ws.runtime.nodetool(SEED, ["statusbackup"]).stdout) is False

    # Cleanup before snapshot, on every node, then the snapshot "as above".
    marks = {node: ws.runtime.log_mark(node) for node in LAB_NODES}
    ok(student, "./scripts/nodetool.sh cleanup")
    ok(student, "./scripts/nodetool-node.sh dse-node-1 cleanup")
    ok(student, "./scripts/nodetool-node.sh dse-node-2 cleanup")
    for node in LAB_NODES:
        assert re.search(r"[Cc]lean", ws.runtime.log_since(node, marks[node], debug=False)), node
    ok(student, "./scripts/nodetool.sh snapshot training -t before_repair_lab")
    assert ("before_repair_lab", KS) in snapshot_tags(ws)


def test_the_hands_on_checklist_passes_its_checks(lab_workspace: service.Workspace, client_student: Student) -> None:
    """The checklist's five items, typed as written, each proven by the lab's own check (which reads
    the cluster with the nodes' own nodetool, whatever client the student used)."""
    ws, student = lab_workspace, client_student
    ok(student, "./scripts/nodetool.sh snapshot training -t lab_backup")
    assert check(ws, "snapshot").passed

    listed = ok(student, "./scripts/nodetool.sh listsnapshots")
    orders = [r for r in parse_listsnapshots(listed) if r.tag == "lab_backup" and r.table == "orders"]
    size = re.search(r"lab_backup\s+training\s+orders\s+\S+ \S+\s+(\S+ \S+)", listed)
    assert orders and size, listed
    ok(student, f'./scripts/answer.sh 05 2 "{size.group(1)}"')  # the answer as the student reads it
    assert check(ws, "list").passed

    ok(student, "./scripts/nodetool.sh enablebackup")
    assert parse_statusbackup(ok(student, "./scripts/nodetool.sh statusbackup")) is True
    assert check(ws, "incremental").passed

    ok(student, "./scripts/nodetool.sh clearsnapshot training -t lab_backup")
    assert check(ws, "clear").passed

    ok(student, "./scripts/nodetool.sh cleanup")
    ok(student, "./scripts/nodetool-node.sh dse-node-1 cleanup")
    ok(student, "./scripts/nodetool-node.sh dse-node-2 cleanup")
    ok(student, "./scripts/nodetool.sh snapshot training -t after_cleanup")
    result = check(ws, "cleanup")
    assert result.passed, result.message
    ok(student, "./scripts/nodetool.sh disablebackup")


def test_the_captured_fixtures_are_the_clients_own(lab_workspace: service.Workspace) -> None:
    """The fixtures in tests/unit/fixtures/client-3.11/ hold what the 3.11 client printed: this run's
    capture has the same shape (same header lines, the same parse)."""
    captured = ARTIFACTS / "client-3.11" / "listsnapshots.txt"
    if RUNTIME != "local":  # an earlier local session's capture may be there: not this run's
        pytest.skip("the 3.11 client runs only on the local runtime")
    if not captured.exists():
        pytest.skip("the 3.11 pass did not run in this session")
    kept = FIXTURES / "listsnapshots.txt"
    assert kept.exists(), "write the fixtures: DSELAB_WRITE_FIXTURES=1 pytest tests/integration/test_module05_verbatim.py"
    def header(path: Path) -> list[list[str]]:  # the column names (their padding follows the values)
        return [line.split() for line in path.read_text().splitlines() if line.startswith("Snapshot name")]

    assert header(captured) == header(kept)
    for name in ("status.txt", "listsnapshots.txt"):
        assert Path(FIXTURES / name).read_text().strip()
