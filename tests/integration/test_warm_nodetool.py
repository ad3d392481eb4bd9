"""The warm nodetool prints what a nodetool JVM prints, byte for byte, on a real cluster.

Every command lab 05 uses, errors included, runs both ways: cold (a JVM per call, the path
students had until now and the fallback) and warm (the cluster's nodetool server). stdout, stderr
and exit codes must be the same. A read is run cold, warm, cold: where the two cold runs agree the
warm one must be identical; a line that differs between the two cold runs (only `info` has such:
uptime, heap, cache counters) must still name the same field. State-changing commands run cold,
the state is put back, then they run warm, and the two runs are compared. The cold path prints no
JVM noise here (no warnings on stderr), so nothing is masked on either stream. The DSE 5.1
generation's nodetool (the 3.11 client, lab 05's scripts) is compared the same way, at the end.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest
from conftest import RUNTIME

from dselab import nodetool_choice, service
from dselab.lab_folder import working_folder
from dselab.runtime import legacy_nodetool, nodetool_server
from dselab.runtime.base import CommandResult
from dselab.runtime.local import NODETOOL_MAIN, LocalRuntime

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(RUNTIME != "local", reason="the warm nodetool is the local runtime's")]
NODE = "dse-seed"


class TwoWays:
    def __init__(self, ws: service.Workspace) -> None:
        base = ws.runtime
        assert isinstance(base, LocalRuntime)
        self.cold = LocalRuntime("lab", settings=base.settings, config=replace(base.config, warm_nodetool=False))
        self.warm = LocalRuntime("lab", settings=base.settings, config=replace(base.config, warm_nodetool=True))

        def no_jvm(*args: object, **kwargs: object) -> CommandResult:
            raise AssertionError(f"the warm path started a nodetool JVM for {args[2]!r}")
        self.warm._java_tool = no_jvm  # type: ignore[method-assign]
        self.where = nodetool_server.place(base.settings.home, "lab")

    def run_cold(self, *args: str, node: str = NODE) -> CommandResult:
        return self.cold.nodetool(node, list(args))

    def run_warm(self, *args: str, node: str = NODE) -> CommandResult:
        return self.warm.nodetool(node, list(args))


@pytest.fixture(scope="module")
def two_ways(lab_workspace: service.Workspace) -> Iterator[TwoWays]:
    ways = TwoWays(lab_workspace)
    launch = ways.warm.warm_nodetool_launch(ways.warm.spec(NODE))
    assert nodetool_server.wait_ready(ways.where, 180, launch), ways.where.log.read_text()
    yield ways


def same(cold: CommandResult, warm: CommandResult) -> None:
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def same_read(ways: TwoWays, *args: str) -> CommandResult:
    """Cold, warm, cold: the warm run equals the cold ones wherever those two agree."""
    first, warm, second = ways.run_cold(*args), ways.run_warm(*args), ways.run_cold(*args)
    assert (warm.returncode, warm.stderr) == (first.returncode, first.stderr) == (second.returncode, second.stderr)
    if first.stdout == second.stdout:
        assert warm.stdout == first.stdout, args
        return warm
    lines = [r.stdout.splitlines(keepends=True) for r in (first, warm, second)]
    assert len(lines[0]) == len(lines[1]) == len(lines[2]), args
    for a, w, b in zip(*lines, strict=True):
        if a == b:
            assert w == a, args
        else:  # a value that moves between two cold runs (uptime, heap): the same field
            assert w.split(":")[0] == a.split(":")[0], (args, a, w)
    return warm


READS = [("version",), ("status",), ("status", "training"), ("describecluster",), ("info",),
         ("tablestats", "training"), ("tablestats", "-F", "json", "training"), ("statusbackup",),
         ("listsnapshots",)]
# nodetool_server.COLD_ONLY: help orders the global options by identity hash, which a long-lived
# JVM does not reproduce, so it always starts its own JVM (what the student sees is then nodetool's own)
COLD = [("help",), ("help", "snapshot"), ("sjk", "--help")]
ERRORS = [("nosuchcommand",), ("flush", "nosuchks"), ("tablestats", "nosuchks"), ("status", "nosuchks"),
          ("snapshot", "-t"), ("clearsnapshot",), ("describecluster", "extra"), ("cleanup", "nosuchks")]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_are_the_same(two_ways: TwoWays, args: Sequence[str]) -> None:
    same_read(two_ways, *args)


@pytest.mark.parametrize("args", COLD, ids=" ".join)
def test_help_and_sjk_always_start_their_own_jvm(two_ways: TwoWays, args: Sequence[str]) -> None:
    assert args[0] in nodetool_server.COLD_ONLY
    with pytest.raises(AssertionError, match="started a nodetool JVM"):
        two_ways.run_warm(*args)


@pytest.mark.parametrize("args", ERRORS, ids=" ".join)
def test_errors_are_the_same(two_ways: TwoWays, args: Sequence[str]) -> None:
    result = same_read(two_ways, *args)
    assert result.returncode != 0


def test_snapshot_list_and_clear_are_the_same(two_ways: TwoWays) -> None:
    cold, warm = two_ways.run_cold, two_ways.run_warm
    cold("clearsnapshot", "-t", "lab_backup", "training")
    made_cold = cold("snapshot", "training", "-t", "lab_backup")
    assert made_cold.returncode == 0, made_cold.stderr
    again_warm = warm("snapshot", "training", "-t", "lab_backup")
    again_cold = cold("snapshot", "training", "-t", "lab_backup")
    same(again_cold, again_warm)  # "Snapshot lab_backup already exists", its stack trace included
    assert again_warm.returncode == 2 and "-- StackTrace --" in again_warm.stderr
    listed = same_read(two_ways, "listsnapshots")
    assert "lab_backup" in listed.stdout
    cleared_cold = cold("clearsnapshot", "-t", "lab_backup", "training")
    made_warm = warm("snapshot", "training", "-t", "lab_backup")
    same(made_cold, made_warm)
    cleared_warm = warm("clearsnapshot", "-t", "lab_backup", "training")
    same(cleared_cold, cleared_warm)
    assert "lab_backup" not in same_read(two_ways, "listsnapshots").stdout


def test_incremental_backup_switches_are_the_same(two_ways: TwoWays) -> None:
    cold, warm = two_ways.run_cold, two_ways.run_warm
    on_cold = cold("enablebackup")
    assert same_read(two_ways, "statusbackup").stdout == "running\n"
    off_cold = cold("disablebackup")
    assert same_read(two_ways, "statusbackup").stdout == "not running\n"
    same(on_cold, warm("enablebackup"))
    assert same_read(two_ways, "statusbackup").stdout == "running\n"
    same(off_cold, warm("disablebackup"))
    assert same_read(two_ways, "statusbackup").stdout == "not running\n"


def test_flush_and_cleanup_are_the_same(two_ways: TwoWays) -> None:
    same_read(two_ways, "flush", "training")
    same_read(two_ways, "flush")
    # On dse-node-2, the node that bootstrapped: it has nothing to clean, so the older nodes keep the
    # data their own cleanup drops (test_01 measures that cleanup).
    same(two_ways.run_cold("cleanup", "training", node="dse-node-2"),
         two_ways.run_warm("cleanup", "training", node="dse-node-2"))


def test_a_node_that_does_not_answer_jmx_is_the_same(two_ways: TwoWays) -> None:
    """NodeTool's connect failure ends in System.exit(1): the server traps it and keeps the status."""
    argv = ["-h", "127.0.0.1", "-p", "1", "status"]  # nothing listens on port 1
    spec = two_ways.cold.spec(NODE)
    cold = two_ways.cold._java_tool(spec, NODETOOL_MAIN, argv, ("nodetool", "status"), 60)
    reply = nodetool_server.run(two_ways.where, argv, 60)
    assert reply is not None
    assert (reply.returncode, nodetool_server.as_text(reply.stdout), nodetool_server.as_text(reply.stderr)) == (
        cold.returncode, cold.stdout, cold.stderr)
    assert cold.returncode == 1 and "Failed to connect" in cold.stderr


def script_runs(ws: service.Workspace, client: str,
                command: str) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """`./scripts/nodetool.sh COMMAND` from a lab folder with `client`, as a student types it: cold, then warm."""
    settings = replace(service.student_settings(ws), nodetool=client)
    runs = []
    for warm in (False, True):
        env = service.student_env(replace(settings, warm_nodetool=warm))
        runs.append(subprocess.run(["bash", "-c", f"./scripts/nodetool.sh {command}"], cwd=working_folder(), env=env,
                                   capture_output=True, timeout=300))
    return runs[0], runs[1]


def same_script_bytes(ws: service.Workspace, client: str, command: str) -> None:
    """Cold and warm scripts: the same bytes on both streams and the same exit code."""
    cold, warm = script_runs(ws, client, command)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


@pytest.mark.parametrize("command", ["version", "describecluster", "listsnapshots", "statusbackup", "nosuchcommand",
                                     "flush nosuchks"])
def test_the_students_script_prints_the_same_bytes(lab_workspace: service.Workspace, two_ways: TwoWays,
                                                   command: str) -> None:
    """The nodes' own nodetool (DSELAB_NODETOOL=native; lab 05 alone would choose 3.11's)."""
    same_script_bytes(lab_workspace, nodetool_choice.NATIVE, command)


# -- the DSE 5.1 generation's nodetool (Cassandra 3.11's client), the lab 05 scripts' default --------
# Its warm server is a second one per cluster (nodetool-lab-3.11.sock) running that client's jars and
# launcher; its cold run is the launcher's own JVM. Both go through student_nodetool, which filters
# the un-mmaper trace a cold 3.11 JVM logs (legacy_nodetool.without_unmmaper_trace): nothing else is
# masked.
LEGACY = legacy_nodetool.CLIENT


class LegacyWays(TwoWays):
    def __init__(self, ws: service.Workspace) -> None:
        super().__init__(ws)

        def no_jvm(*args: object, **kwargs: object) -> CommandResult:
            raise AssertionError(f"the warm path started a nodetool JVM for {args[1]!r}")
        self.warm._run = no_jvm  # type: ignore[method-assign]
        self.where = nodetool_server.place(ws.runtime.settings.home, "lab", LEGACY)

    def run_cold(self, *args: str, node: str = NODE) -> CommandResult:
        return self.cold.student_nodetool(node, list(args), LEGACY)

    def run_warm(self, *args: str, node: str = NODE) -> CommandResult:
        return self.warm.student_nodetool(node, list(args), LEGACY)


@pytest.fixture(scope="module")
def legacy_ways(lab_workspace: service.Workspace) -> Iterator[LegacyWays]:
    ways = LegacyWays(lab_workspace)
    launch = ways.warm.warm_nodetool_launch(ways.warm.spec(NODE), LEGACY)
    assert (launch.entry, launch.client_init) == (legacy_nodetool.MAIN_CLASS, True)
    assert nodetool_server.wait_ready(ways.where, 180, launch), ways.where.log.read_text()
    yield ways


# 3.11's `clearsnapshot nosuchks` against a 5.0 node exits 0 ("Requested clearing snapshot(s) for
# [nosuchks]"), cold as warm: a read here, not an error.
READS_311 = [("version",), ("status",), ("describecluster",), ("statusbackup",), ("listsnapshots",),
             ("clearsnapshot", "nosuchks")]
ERRORS_311 = [("nosuchcommand",), ("flush", "nosuchks"), ("status", "nosuchks"), ("snapshot", "nosuchks", "-t", "x"),
              ("snapshot", "-t")]


@pytest.mark.parametrize("args", READS_311, ids=" ".join)
def test_3_11_reads_are_the_same(legacy_ways: LegacyWays, args: Sequence[str]) -> None:
    same_read(legacy_ways, *args)


@pytest.mark.parametrize("args", ERRORS_311, ids=" ".join)
def test_3_11_errors_are_the_same(legacy_ways: LegacyWays, args: Sequence[str]) -> None:
    assert same_read(legacy_ways, *args).returncode != 0


@pytest.mark.parametrize("args", COLD, ids=" ".join)
def test_3_11_help_and_sjk_always_start_their_own_jvm(legacy_ways: LegacyWays, args: Sequence[str]) -> None:
    with pytest.raises(AssertionError, match="started a nodetool JVM"):
        legacy_ways.run_warm(*args)


def test_the_3_11_server_keeps_the_unmmaper_trace_out_of_replies(legacy_ways: LegacyWays) -> None:
    """It loads FileUtils at start (its un-mmaper trace goes to the server's log): a reply's stderr
    is nodetool's alone, unfiltered."""
    spec = legacy_ways.warm.spec(NODE)
    reply = nodetool_server.run(legacy_ways.where, ["-h", "127.0.0.1", "-p", str(spec.jmx_port), "version"], 60)
    assert reply is not None and (reply.returncode, reply.stderr) == (0, b"")
    assert reply.stdout.startswith(b"ReleaseVersion: 5.0")


def snapshot_tags(listed: CommandResult) -> set[str]:
    return {line.split()[0] for line in listed.stdout.splitlines()[2:] if line.strip()}


def test_3_11_snapshot_list_and_clear_without_a_tag_are_the_same(legacy_ways: LegacyWays) -> None:
    """The module's forms: `snapshot training -t x`, `listsnapshots`, and `clearsnapshot training`
    (every snapshot of the keyspace, a 3.11 form that 5.0's own nodetool refuses)."""
    cold, warm = legacy_ways.run_cold, legacy_ways.run_warm
    assert cold("clearsnapshot", "training").returncode == 0
    made_cold = cold("snapshot", "training", "-t", "x")
    assert made_cold.returncode == 0, made_cold.stderr
    again_warm = warm("snapshot", "training", "-t", "x")
    same(cold("snapshot", "training", "-t", "x"), again_warm)  # "already exists": its stack trace, frame for frame
    assert again_warm.returncode == 2 and "-- StackTrace --" in again_warm.stderr
    assert "x" in snapshot_tags(same_read(legacy_ways, "listsnapshots"))
    cleared_cold = cold("clearsnapshot", "training")
    same(made_cold, warm("snapshot", "training", "-t", "x"))
    same(cleared_cold, warm("clearsnapshot", "training"))
    assert "x" not in snapshot_tags(same_read(legacy_ways, "listsnapshots"))


@pytest.mark.parametrize("command", ["listsnapshots", "statusbackup", "describecluster", "flush nosuchks",
                                     "nosuchcommand"])
def test_the_students_3_11_script_prints_the_same_bytes(lab_workspace: service.Workspace, legacy_ways: LegacyWays,
                                                        command: str) -> None:
    """The 3.11 client (lab 05's): its own warm server against its cold launcher."""
    same_script_bytes(lab_workspace, LEGACY, command)


def test_the_students_3_11_help_is_cold_both_ways(lab_workspace: service.Workspace, legacy_ways: LegacyWays) -> None:
    """3.11's help orders its global options differently in every fresh JVM (measured: four cold runs,
    four orders), so no two runs compare byte for byte; it is COLD_ONLY, and the warm setting prints
    a cold JVM's help: the same exit, stderr and command list."""
    cold, warm = script_runs(lab_workspace, LEGACY, "help")
    listed = b"The most commonly used nodetool commands are:"
    assert (warm.returncode, warm.stderr) == (cold.returncode, cold.stderr) == (0, b"")
    assert warm.stdout.startswith(b"usage: nodetool ") and listed in warm.stdout
    assert warm.stdout.split(listed)[1] == cold.stdout.split(listed)[1]


def test_dselab_start_warms_the_client_the_scripts_run(lab_workspace: service.Workspace) -> None:
    """`dselab start` starts the warm server of the client the lab's scripts run (3.11 for lab 05)
    in the background: the first command a student types is answered warm too."""
    import psutil

    where = nodetool_server.place(lab_workspace.runtime.settings.home, "lab", LEGACY)
    for proc in psutil.process_iter(["cmdline"]):  # no server, and none started lately
        if str(where.socket) in " ".join(proc.info["cmdline"] or []):
            proc.kill()
            proc.wait(30)
    where.socket.unlink(missing_ok=True)
    where.log.unlink(missing_ok=True)
    assert nodetool_server.ask(where, ["-h", "127.0.0.1", "-p", "1", "version"], 5) is None

    service.start_lab(lab_workspace, "05")  # the cluster is up: the baseline, and the student's client
    assert nodetool_server.wait_ready(where, 180), "no warm 3.11 server after dselab start"  # polls only
