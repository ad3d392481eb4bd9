"""The local runtime without Cassandra: settings as a value, node processes through psutil, logs,
commands on a node. A node's process is stood in for by a sleeping Python process whose command
line names the node's config folder, as the real JVM's does."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dselab.errors import EnvironmentProblem, NodeTimeout, UsageError
from dselab.runtime import safe_files
from dselab.runtime.common import STOP_GRACE_S
from dselab.runtime.local import LocalRuntime
from dselab.runtime.local_config import server_jvm_args
from dselab.runtime.local_settings import LocalSettings
from dselab.runtime.safe_files import RefusedPath

# Each says "ready" once its signal handling is in place, so no signal races the interpreter's start.
SLEEP = "import time; print('ready', flush=True); time.sleep(60)"
IGNORE_TERM = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + SLEEP
# As a JVM started with -XX:ArchiveClassesAtExit=<file> (its second argument here) does on SIGTERM.
DUMP_ON_TERM = ("import signal, sys; signal.signal(signal.SIGTERM, lambda *a: "
                "(open(sys.argv[2].split('=', 1)[1], 'w').write('archive'), sys.exit(0))); " + SLEEP)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def fake_node(runtime: LocalRuntime, node: str, children: list[subprocess.Popen[bytes]],
              code: str = SLEEP, *extra: str) -> subprocess.Popen[bytes]:
    """A process that stands for the node: its pid file names it, its argv names the conf folder."""
    spec = runtime.spec(node)
    spec.conf_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", code, str(spec.conf_dir), *extra], stdout=subprocess.PIPE)
    children.append(proc)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    spec.pid_file.write_text(str(proc.pid))
    return proc


def seat(tmp_path: Path, n: int) -> LocalRuntime:
    return LocalRuntime("lab", settings=LocalSettings(home=tmp_path / f"seat{n}", loopback=f"127.0.{70 + n}",
                                                      jmx_base=12000 + 400 * n, heap_mb=256 * n))


# -- settings ---------------------------------------------------------------------------------

def test_env_knobs_set_home_addresses_jmx_ports_and_heap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path))
    monkeypatch.setenv("DSELAB_LOOPBACK", "127.0.77")
    monkeypatch.setenv("DSELAB_JMX_BASE", "9100")
    monkeypatch.setenv("DSELAB_HEAP_MB", "768")
    lab, restore = LocalRuntime("lab"), LocalRuntime("restore")
    assert [lab.address(n) for n in lab.node_names()] == ["127.0.77.1", "127.0.77.2", "127.0.77.3"]
    assert [s.jmx_port for s in lab.specs.values()] == [9100, 9200, 9300]
    assert lab.spec("dse-node-1").root == tmp_path / "clusters" / "lab" / "dse-node-1"
    assert restore.address("dse-restore") == "127.0.77.4" and restore.spec("dse-restore").jmx_port == 9400
    assert restore.root == tmp_path / "clusters" / "restore"
    assert "-Xmx768m" in server_jvm_args(lab.spec("dse-seed"), None)


def test_defaults_when_no_knob_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for knob in ("DSELAB_LOOPBACK", "DSELAB_JMX_BASE", "DSELAB_HEAP_MB"):
        monkeypatch.delenv(knob, raising=False)
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path))
    assert LocalSettings.from_env() == LocalSettings(home=tmp_path, loopback="127.0.55", jmx_base=7155, heap_mb=512)


@pytest.mark.parametrize("knob, value, said", [
    ("DSELAB_JMX_BASE", "seven", "DSELAB_JMX_BASE='seven' is not a whole number"),
    ("DSELAB_JMX_BASE", "80", "DSELAB_JMX_BASE='80' is out of range (1024-65235)"),
    ("DSELAB_HEAP_MB", "64", "DSELAB_HEAP_MB='64' is out of range (256-"),
    ("DSELAB_LOOPBACK", "10.0.0", "DSELAB_LOOPBACK='10.0.0' is not of the form 127.X.Y"),
    ("DSELAB_LOOPBACK", "127.0.300", "is not of the form 127.X.Y"),
])
def test_bad_knobs_are_one_line_usage_errors(monkeypatch: pytest.MonkeyPatch, knob: str, value: str,
                                             said: str) -> None:
    monkeypatch.setenv(knob, value)
    with pytest.raises(UsageError) as err:
        LocalRuntime("lab")
    assert said in err.value.message and err.value.fix and "\n" not in err.value.one_line()


def test_one_process_holds_separate_clusters(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             children: list[subprocess.Popen[bytes]]) -> None:
    """One runtime per classroom seat: own folder, addresses, JMX ports and heap, env untouched."""
    monkeypatch.setenv("DSELAB_LOOPBACK", "127.0.99")
    one, two = seat(tmp_path, 1), seat(tmp_path, 2)
    for field in ("address", "jmx_port", "root"):
        assert not {getattr(s, field) for s in one.specs.values()} & {getattr(s, field) for s in two.specs.values()}
    assert one.address("dse-seed") == "127.0.71.1" and two.address("dse-seed") == "127.0.72.1"
    assert "-Xmx256m" in server_jvm_args(one.spec("dse-seed"), None)
    assert "-Xmx512m" in server_jvm_args(two.spec("dse-seed"), None)
    fake_node(one, "dse-seed", children)
    fake_node(two, "dse-seed", children)
    one.stop_node("dse-seed")
    assert not one.is_running("dse-seed") and two.is_running("dse-seed")


def test_unknown_cluster_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the clusters are: lab, restore"):
        LocalRuntime("staging", settings=LocalSettings(home=tmp_path))


# -- processes --------------------------------------------------------------------------------

def test_a_node_runs_while_its_pid_file_names_its_own_process(tmp_path: Path,
                                                              children: list[subprocess.Popen[bytes]]) -> None:
    runtime = seat(tmp_path, 1)
    assert not runtime.is_running("dse-seed")  # no pid file
    proc = fake_node(runtime, "dse-seed", children)
    assert runtime.is_running("dse-seed") and runtime.process("dse-seed").pid == proc.pid
    # After a crash the pid may belong to another program: it must not count as the node.
    other = subprocess.Popen([sys.executable, "-c", SLEEP])
    children.append(other)
    runtime.spec("dse-node-1").conf_dir.mkdir(parents=True)
    runtime.spec("dse-node-1").pid_file.write_text(str(other.pid))
    assert not runtime.is_running("dse-node-1")
    runtime.spec("dse-node-2").conf_dir.mkdir(parents=True)
    runtime.spec("dse-node-2").pid_file.write_text("not a pid")
    assert not runtime.is_running("dse-node-2")


def test_stop_node_terminates_reaps_and_removes_the_pid_file(tmp_path: Path,
                                                             children: list[subprocess.Popen[bytes]]) -> None:
    runtime = seat(tmp_path, 1)
    proc = fake_node(runtime, "dse-node-1", children)
    runtime.stop_node("dse-node-1")
    assert not psutil.pid_exists(proc.pid)  # gone and reaped: no zombie left behind
    assert not runtime.spec("dse-node-1").pid_file.exists()
    runtime.stop_node("dse-node-1")  # already stopped: nothing to do


def test_a_node_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path,
                                                                children: list[subprocess.Popen[bytes]]) -> None:
    runtime = seat(tmp_path, 1)
    proc = fake_node(runtime, "dse-node-2", children, IGNORE_TERM)
    began = time.monotonic()
    runtime.stop_node("dse-node-2", grace=0.5)
    assert time.monotonic() - began >= 0.5  # SIGTERM was given its grace first
    assert not psutil.pid_exists(proc.pid) and not runtime.is_running("dse-node-2")


def test_stop_puts_the_class_archive_a_node_wrote_at_exit_in_place_and_drops_a_killed_ones(
        tmp_path: Path, children: list[subprocess.Popen[bytes]]) -> None:
    from dselab.runtime import class_archive

    runtime = seat(tmp_path, 1)
    archive = class_archive.for_jvm(tmp_path / "archives", sys.executable, "/lib/a.jar", "Main")
    clean, stubborn = (archive.flags(owner)[-1] for owner in ("clean", "stubborn"))
    fake_node(runtime, "dse-seed", children, DUMP_ON_TERM, clean)
    fake_node(runtime, "dse-node-1", children, IGNORE_TERM, stubborn)
    archive.dump_file("stubborn").write_text("half")
    runtime.stop_node("dse-node-1", grace=0.5)  # killed: what it wrote cannot be trusted whole
    assert not archive.path.exists() and not archive.dump_file("stubborn").exists()
    runtime.stop_nodes(["dse-seed"])
    assert archive.path.read_text() == "archive" and not archive.dump_file("clean").exists()


def test_kill_node_is_a_crash(tmp_path: Path, children: list[subprocess.Popen[bytes]]) -> None:
    runtime = seat(tmp_path, 1)
    proc = fake_node(runtime, "dse-seed", children, IGNORE_TERM)
    runtime.kill_node("dse-seed")
    assert not psutil.pid_exists(proc.pid) and not runtime.is_running("dse-seed")
    assert runtime.spec("dse-seed").pid_file.exists()  # as after a real crash


def test_down_purge_kills_the_nodes_without_a_drain(tmp_path: Path, children: list[subprocess.Popen[bytes]]) -> None:
    """Data about to be removed needs no drain: a node that would sit out the whole grace on
    SIGTERM is gone at once, and so is its folder."""
    runtime = seat(tmp_path, 1)
    procs = [fake_node(runtime, node, children, IGNORE_TERM) for node in ("dse-seed", "dse-node-1")]
    started = time.monotonic()
    runtime.down(purge=True)
    assert time.monotonic() - started < STOP_GRACE_S / 2
    assert not any(psutil.pid_exists(p.pid) for p in procs) and not runtime.root.exists()


def test_exists_once_every_node_was_configured(tmp_path: Path) -> None:
    runtime = seat(tmp_path, 1)
    assert not runtime.exists()
    for spec in runtime.specs.values():
        runtime._write_config(spec)
    assert runtime.exists()
    runtime.down(purge=True)
    assert not runtime.exists() and not runtime.root.exists()


# -- commands and logs ------------------------------------------------------------------------

def test_a_command_that_overruns_names_the_node_and_carries_its_log(tmp_path: Path) -> None:
    runtime = seat(tmp_path, 1)
    spec = runtime.spec("dse-node-1")
    spec.data_dir.mkdir(parents=True)
    spec.log_dir.mkdir(parents=True)
    (spec.log_dir / "system.log").write_text("INFO a\nINFO b\nWARN compaction is slow\n")
    with pytest.raises(NodeTimeout) as err:
        runtime.exec("dse-node-1", ["sleep", "5"], timeout=0.2)
    assert err.value.node == "dse-node-1"
    assert err.value.message == "dse-node-1: `sleep 5` did not happen within 0s"  # no file content
    assert err.value.log_tail == "INFO a\nINFO b\nWARN compaction is slow"


def test_exec_runs_in_the_data_dir_and_reports_missing_commands(tmp_path: Path) -> None:
    runtime = seat(tmp_path, 1)
    with pytest.raises(EnvironmentProblem, match="has no folder"):
        runtime.exec("dse-seed", ["pwd"])
    runtime.spec("dse-seed").data_dir.mkdir(parents=True)
    res = runtime.exec("dse-seed", ["pwd"])
    assert res.ok and res.stdout.strip() == str(runtime.spec("dse-seed").data_dir)
    with pytest.raises(UsageError, match="no such command: no-such-tool"):
        runtime.exec("dse-seed", ["no-such-tool"])


def test_logs_marks_and_tail(tmp_path: Path) -> None:
    runtime = seat(tmp_path, 1)
    logs = runtime.spec("dse-seed").log_dir
    logs.mkdir(parents=True)
    assert runtime.log_mark("dse-seed") == 0 and runtime.log_since("dse-seed", 0) == ""
    assert runtime.log_tail("dse-seed") == []
    (logs / "output.log").write_text("Error: could not find or load main class\n")
    assert runtime.log_tail("dse-seed") == ["Error: could not find or load main class"]  # JVM died early
    (logs / "debug.log").write_text("DEBUG one\n")
    (logs / "system.log").write_text("INFO one\n")
    mark = runtime.log_mark("dse-seed")
    (logs / "debug.log").write_text("DEBUG one\nDEBUG two\n")
    assert runtime.log_since("dse-seed", mark) == "DEBUG two\n"
    assert runtime.log_mark("dse-seed", debug=False) == len("INFO one\n")
    assert runtime.log_tail("dse-seed", 1) == ["INFO one"]


def test_the_restore_cluster_of_a_seat_keeps_the_seats_settings(tmp_path: Path) -> None:
    lab = seat(tmp_path, 2)
    restore = lab.for_cluster("restore")
    assert restore.cluster == "restore" and restore.settings is lab.settings
    assert restore.address("dse-restore") == "127.0.72.4"
    assert restore.root == tmp_path / "seat2" / "clusters" / "restore"


# -- reads of files the node's owner controls (a classroom seat) --------------------------------

def test_a_log_linked_to_a_secret_is_never_read(tmp_path: Path) -> None:
    """Issue 16's attack: system.log removed, output.log linked to the course key, then a timeout."""
    runtime = seat(tmp_path, 1)
    logs = runtime.spec("dse-seed").log_dir
    logs.mkdir(parents=True)
    (tmp_path / "course.key").write_text("feedc0de" * 8)
    (logs / "output.log").symlink_to(tmp_path / "course.key")
    with pytest.raises(RefusedPath, match="output.log is a symbolic link"):
        runtime.log_tail("dse-seed")
    err = runtime.timeout_error("dse-seed", 120, "`nodetool listsnapshots`")
    assert "feedc0de" not in err.message + err.log_tail + (err.fix or "")


def test_the_pid_file_is_read_capped_and_never_through_a_link(tmp_path: Path,
                                                              children: list[subprocess.Popen[bytes]]) -> None:
    runtime = seat(tmp_path, 1)
    proc = fake_node(runtime, "dse-seed", children)
    pid_file = runtime.spec("dse-seed").pid_file
    pid_file.unlink()
    (tmp_path / "elsewhere.pid").write_text(str(proc.pid))
    pid_file.symlink_to(tmp_path / "elsewhere.pid")
    assert not runtime.is_running("dse-seed")
    pid_file.unlink()
    with pid_file.open("wb") as fh:
        fh.write(str(proc.pid).encode())
        fh.truncate(20 << 30)
    assert not runtime.is_running("dse-seed")  # a 20 GiB pid file is not read


def test_a_20_gib_log_is_read_within_the_cap_and_says_so(tmp_path: Path) -> None:
    runtime = seat(tmp_path, 1)
    logs = runtime.spec("dse-seed").log_dir
    logs.mkdir(parents=True)
    with (logs / "debug.log").open("wb") as fh:
        fh.truncate(20 << 30)
        fh.seek(20 << 30)
        fh.write(b"\nINFO the last line\n")
    text = runtime.log_since("dse-seed", 0)
    assert text.startswith("[dselab: ") and "were not read" in text.splitlines()[0]
    assert text.endswith("INFO the last line\n") and len(text) <= safe_files.MAX_LOG_BYTES + 200
    assert runtime.log_mark("dse-seed") == (20 << 30) + len("\nINFO the last line\n")


def test_file_reads_refuse_links_giants_and_loops(tmp_path: Path) -> None:
    runtime = seat(tmp_path, 1)
    data = runtime.spec("dse-seed").data_dir
    (data / "ks" / "t-1").mkdir(parents=True)
    (data / "ks" / "t-1" / "nb-1-big-Data.db").write_text("x")
    (data / "ks" / "loop").symlink_to("loop")
    (data / "ks" / "key.json").symlink_to(tmp_path / "course.key")
    (tmp_path / "course.key").write_text("secret")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "stolen.db").write_text("x")
    (data / "ks" / "t-2").symlink_to(tmp_path / "outside")
    assert [e.path for e in runtime.list_files("dse-seed", "ks")] == ["ks/t-1/nb-1-big-Data.db"]
    assert [e.path for e in runtime.list_files("dse-seed")] == ["ks/t-1/nb-1-big-Data.db"]
    with pytest.raises(RefusedPath):
        runtime.read_text("dse-seed", "ks/key.json")
    with pytest.raises(RefusedPath):
        runtime.read_text("dse-seed", "ks/loop/x")
    with pytest.raises(RefusedPath):
        runtime.list_files("dse-seed", "ks/t-2")
    with (data / "ks" / "t-1" / "manifest.json").open("wb") as fh:
        fh.truncate(20 << 30)
    with pytest.raises(RefusedPath, match="larger than"):
        runtime.read_text("dse-seed", "ks/t-1/manifest.json")
    with pytest.raises(UsageError, match="leaves the data directory"):
        runtime.read_text("dse-seed", "../cassandra.pid")
    runtime.remove_files("dse-seed", ["ks/t-1/manifest.json", "ks/t-1/gone.db"])
    with pytest.raises(RefusedPath):
        runtime.remove_files("dse-seed", ["ks/t-2/stolen.db"])  # not through the linked folder
    assert (tmp_path / "outside" / "stolen.db").exists()
    runtime.copy_files("dse-seed", ["ks/t-1/nb-1-big-Data.db"], "ks/t-3/new")
    assert (data / "ks" / "t-3" / "new" / "nb-1-big-Data.db").read_text() == "x"
    with pytest.raises(RefusedPath):
        runtime.copy_files("dse-seed", ["ks/t-1/nb-1-big-Data.db"], "ks/t-2/sub")  # no folder made through it
    assert not (tmp_path / "outside" / "sub").exists()
