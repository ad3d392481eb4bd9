"""The warm nodetool's client without a cluster or a JVM: the protocol against a stand-in server on
a Unix socket, the fallback (None: run the JVM) on every failure, the start lock, the trust checks,
and the local runtime's hook (off by setting, off for an observer with a tools config)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dselab.errors import NodeTimeout
from dselab.runtime import nodetool_server as ns
from dselab.runtime.base import CommandResult
from dselab.runtime.local import LocalRuntime
from dselab.runtime.local_settings import LocalSettings
from dselab.settings import Settings

P = ["-h", "127.0.0.1", "-p", "7155"]  # every call's prefix
LAUNCH = ns.Launch(java="/usr/bin/java", jvm_args=("-Xmx256m",), classpath="/conf:/lib/*", cassandra_version="5.0.9",
                   cache=Path("/nonexistent-cache"), cluster_root=Path("/nonexistent-root"))


@pytest.fixture
def home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="wn", dir="/tmp"))  # short: a socket path has 108 bytes
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def read_request(conn: socket.socket) -> tuple[int, list[str]]:
    assert ns._read_exact(conn, 4) == ns.MAGIC
    timeout_ms, argc = struct.unpack(">II", ns._read_exact(conn, 8))
    argv = []
    for _ in range(argc):
        (length,) = struct.unpack(">I", ns._read_exact(conn, 4))
        argv.append(ns._read_exact(conn, length).decode())
    return timeout_ms, argv


def reply(status: int, code: int, out: bytes, err: bytes) -> bytes:
    return ns.MAGIC + struct.pack(">Bi", status, code) + struct.pack(">I", len(out)) + out + \
        struct.pack(">I", len(err)) + err


class StandIn:
    """A server on the cluster's socket answering each request with `answer(timeout_ms, argv)`."""

    def __init__(self, where: ns.Place, answer: Callable[[int, list[str]], bytes]) -> None:
        assert ns.usable(where)
        self.seen: list[tuple[int, list[str]]] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(where.socket))
        self.listener.listen(8)
        self.answer = answer
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    request = read_request(conn)
                except ConnectionError:
                    continue  # the client hung up before asking
                self.seen.append(request)
                conn.sendall(self.answer(*request))

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def stand_in(home: Path) -> Iterator[Callable[[Callable[[int, list[str]], bytes]], StandIn]]:
    made: list[StandIn] = []

    def make(answer: Callable[[int, list[str]], bytes]) -> StandIn:
        made.append(StandIn(ns.place(home, "lab"), answer))
        return made[-1]
    yield make
    for server in made:
        server.close()


def no_start(monkeypatch: pytest.MonkeyPatch) -> list[ns.Launch]:
    started: list[ns.Launch] = []
    monkeypatch.setattr(ns, "start", lambda where, launch: started.append(launch) or True)
    return started


# -- the protocol -----------------------------------------------------------------------------

def test_a_request_carries_the_timeout_and_every_argument_as_utf8(home: Path, stand_in: Any) -> None:
    server = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"Keyspace : training\n", b""))
    got = ns.run(ns.place(home, "lab"), ["-h", "127.0.0.1", "-p", "7155", "tablestats", "trainïng"], 12.5)
    assert got == ns.Reply(ns.RAN, 0, b"Keyspace : training\n", b"")
    assert server.seen == [(12500, ["-h", "127.0.0.1", "-p", "7155", "tablestats", "trainïng"])]


def test_exit_codes_and_both_streams_come_back_as_nodetool_gave_them(home: Path, stand_in: Any) -> None:
    err = b"error: Keyspace [nope] does not exist.\n-- StackTrace --\n"
    stand_in(lambda ms, argv: reply(ns.RAN, 2, b"", err))
    got = ns.run(ns.place(home, "lab"), P + ["flush", "nope"], 5)
    assert got is not None and (got.returncode, got.stdout, got.stderr) == (2, b"", err)


def test_text_is_decoded_as_a_child_processes_output_would_be() -> None:
    assert ns.as_text(b"a\r\nb\rc\n") == "a\nb\nc\n"


@pytest.mark.parametrize("status", [ns.BUSY, ns.REFUSED, ns.ESCAPED])
def test_a_reply_that_did_not_run_the_command_means_run_it_cold(home: Path, stand_in: Any, status: int) -> None:
    stand_in(lambda ms, argv: reply(status, -1, b"", b"partial"))
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5) is None


def test_a_timeout_is_the_callers_timeout_not_a_second_run(home: Path, stand_in: Any) -> None:
    stand_in(lambda ms, argv: reply(ns.TIMED_OUT, -1, b"", b""))
    with pytest.raises(ns.TimedOut):
        ns.run(ns.place(home, "lab"), P + ["repair"], 1)


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 400\r\n", ns.MAGIC + b"\x00"])
def test_a_broken_or_foreign_reply_means_run_it_cold(home: Path, stand_in: Any, answer: bytes) -> None:
    stand_in(lambda ms, argv: answer)
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5) is None


@pytest.mark.parametrize("args", [["sjk", "ttop"], ["help"], ["help", "snapshot"], []])
def test_sjk_and_help_are_never_sent(home: Path, stand_in: Any, args: list[str]) -> None:
    """help's global options come in an order a long-lived JVM does not reproduce: help runs cold."""
    server = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"", b""))
    assert ns.run(ns.place(home, "lab"), ["-h", "127.0.0.1", "-p", "7155", *args], 5) is None
    assert server.seen == []


# -- starting ---------------------------------------------------------------------------------

def test_no_server_runs_cold_and_starts_one_in_the_background(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = no_start(monkeypatch)
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5, lambda: LAUNCH) is None
    assert started == [LAUNCH]
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5) is None  # no launch given: nothing started
    assert started == [LAUNCH]


def test_a_launch_that_cannot_be_built_still_runs_cold(home: Path) -> None:
    from dselab.errors import EnvironmentProblem

    def broken() -> ns.Launch:
        raise EnvironmentProblem("no Cassandra")
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5, broken) is None


def test_the_start_lock_lets_one_caller_start_a_server(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[list[str]] = []

    class Proc:
        def __init__(self, argv: list[str], **kw: Any) -> None:
            spawned.append(argv)
            assert kw["pass_fds"] and kw["start_new_session"]

        def wait(self) -> int:
            return 0
    monkeypatch.setattr(ns.subprocess, "Popen", Proc)
    where = ns.place(home, "lab")
    assert ns.usable(where)
    holder = ns._take_lock(where)  # a server starting (or running) holds it
    assert holder is not None
    assert ns.start(where, LAUNCH) is False and spawned == []
    os.close(holder)
    assert ns.start(where, LAUNCH) is True and len(spawned) == 1
    assert spawned[0][1:5] == ["-m", "dselab.runtime.nodetool_server", "launch", spawned[0][4]]
    assert spawned[0][5] == str(where.socket)


def test_a_server_started_lately_is_not_started_again_at_every_call(home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that cannot run here dies at once: the next calls run cold instead of each starting one."""
    spawned: list[object] = []
    monkeypatch.setattr(ns.subprocess, "Popen",
                        lambda argv, **kw: spawned.append(argv) or type("P", (), {"wait": lambda self: 0})())
    where = ns.place(home, "lab")
    assert ns.usable(where)
    assert ns.start(where, LAUNCH) is True  # writes the log
    assert ns.start(where, LAUNCH) is False and len(spawned) == 1
    assert ns.start(where, LAUNCH, force=True) is True and len(spawned) == 2
    os.utime(where.log, (0, 0))
    assert ns.start(where, LAUNCH) is True and len(spawned) == 3


def test_a_stale_socket_is_removed_before_a_start(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ns.subprocess, "Popen", lambda argv, **kw: type("P", (), {"wait": lambda self: 0})())
    where = ns.place(home, "lab")
    assert ns.usable(where)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(where.socket))
    dead.close()  # its file stays, nobody listens
    assert ns.start(where, LAUNCH) is True
    assert not where.socket.exists()


# -- trust ------------------------------------------------------------------------------------

def test_a_folder_others_may_enter_or_write_is_not_used(home: Path, stand_in: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    started = no_start(monkeypatch)
    stand_in(lambda ms, argv: reply(ns.RAN, 0, b"fake\n", b""))
    where = ns.place(home, "lab")
    where.folder.chmod(0o770)
    assert ns.run(where, P + ["status"], 5, lambda: LAUNCH) is None and started == []
    where.folder.chmod(0o700)
    assert ns.run(where, P + ["status"], 5) is not None


def test_a_folder_that_is_a_link_is_not_used(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = no_start(monkeypatch)
    elsewhere = home / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (home / "run").symlink_to(elsewhere)
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5, lambda: LAUNCH) is None and started == []


def test_a_server_of_another_user_is_not_asked(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"fake\n", b""))
    real = ns._peer_uid
    monkeypatch.setattr(ns, "_peer_uid", lambda sock: real(sock) + 1)
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5) is None
    assert server.seen == []


def test_a_socket_path_too_long_for_sun_path_is_not_used(home: Path) -> None:
    deep = home / ("x" * 120)
    assert not ns.usable(ns.place(deep, "lab"))


# -- the local runtime's hook -----------------------------------------------------------------

def runtime(home: Path, **changes: Any) -> LocalRuntime:
    config = Settings(home=home, cache=home / "cache").replace(**changes)
    return LocalRuntime("lab", settings=LocalSettings(home=home, loopback="127.0.91", jmx_base=12600), config=config)


def test_the_runtime_asks_the_warm_server_first(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = stand_in(lambda ms, argv: reply(ns.RAN, 1, b"nodetool: Found unexpected parameters\n", b""))
    rt = runtime(home)
    monkeypatch.setattr(rt, "require_running", rt.spec)
    monkeypatch.setattr(rt, "_java_tool", lambda *a, **k: pytest.fail("a JVM was started"))
    res = rt.nodetool("dse-node-1", ["status", "a", "b"], timeout=30)
    assert (res.argv, res.returncode, res.stdout, res.stderr) == (
        ("nodetool", "status", "a", "b"), 1, "nodetool: Found unexpected parameters\n", "")
    assert server.seen == [(30000, ["-h", "127.0.0.1", "-p", str(rt.spec("dse-node-1").jmx_port), "status", "a", "b"])]


def test_a_warm_timeout_is_the_runtimes_timeout(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(lambda ms, argv: reply(ns.TIMED_OUT, -1, b"", b""))
    rt = runtime(home)
    monkeypatch.setattr(rt, "require_running", rt.spec)
    with pytest.raises(NodeTimeout, match="nodetool repair"):
        rt.nodetool("dse-seed", ["repair"], timeout=2)


@pytest.mark.parametrize("changes", [{"warm_nodetool": False}, {"tools_conf": Path("/srv/tools-conf")}])
def test_off_by_setting_and_for_an_observer(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch,
                                            changes: dict[str, Any]) -> None:
    server = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"warm\n", b""))
    rt = runtime(home, **changes)
    monkeypatch.setattr(rt, "require_running", rt.spec)
    cold: list[Any] = []
    monkeypatch.setattr(rt, "_java_tool", lambda *a, **k: cold.append(a) or "cold")
    assert rt.nodetool("dse-seed", ["status"]) == "cold"
    assert server.seen == [] and len(cold) == 1


def test_an_observer_asks_only_a_server_in_its_own_folder_and_runs_it_on_its_tools_conf(
        home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A classroom observer (tools config set) given its own folder asks the server there, never the
    one in the cluster's home (the seat's to start or replace); the server it would start runs with
    root's tools config at the head of its classpath and in its flags, not the seat's conf/."""
    in_seat_home = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"the seat's\n", b""))
    own = home / "observer" / "run"
    own.parent.mkdir()
    observers = StandIn(ns.Place(own, "lab"), lambda ms, argv: reply(ns.RAN, 0, b"own\n", b""))
    try:
        rt = runtime(home, tools_conf=Path("/srv/tools-conf"), warm_nodetool_dir=own)
        monkeypatch.setattr(rt, "require_running", rt.spec)
        monkeypatch.setattr(rt, "_java_tool", lambda *a, **k: pytest.fail("a JVM was started"))
        assert rt.nodetool("dse-seed", ["status"]).stdout == "own\n"
        assert len(observers.seen) == 1 and in_seat_home.seen == []
        monkeypatch.setattr(type(rt), "dist", property(lambda self: type("D", (), {"classpath": "/lib/*",
                                                                                   "version": "5.0.9"})()))
        launch = rt.warm_nodetool_launch(rt.spec("dse-seed"))
        assert launch.classpath == "/srv/tools-conf:/lib/*"
        assert "-Dlogback.configurationFile=file:///srv/tools-conf/logback-tools.xml" in launch.jvm_args
    finally:
        observers.close()


# -- `dselab nodetool` without the CLI (dselab.entry) -----------------------------------------

@pytest.mark.parametrize(("argv", "parsed"), [
    (["status"], ("dse-seed", ["status"])),
    (["--node", "dse-node-1", "--", "snapshot", "-t", "x"], ("dse-node-1", ["snapshot", "-t", "x"])),
    (["--node=dse-node-2", "info"], ("dse-node-2", ["info"])),
    (["--", "-h"], ("dse-seed", ["-h"])),
    (["--help"], None), (["-x", "status"], None),
])
def test_the_fast_path_reads_the_command_line_as_the_cli_does(argv: list[str], parsed: Any) -> None:
    from dselab import entry

    assert entry._parse(argv) == parsed


def fast_env(monkeypatch: pytest.MonkeyPatch, home: Path, **extra: str) -> None:
    monkeypatch.delenv("DSELAB_TOOLS_CONF", raising=False)
    monkeypatch.delenv("DSELAB_WARM_NODETOOL", raising=False)
    monkeypatch.delenv("DSELAB_NODETOOL", raising=False)
    monkeypatch.delenv("DSELAB_STATE_DIR", raising=False)
    for name, value in {"DSELAB_HOME": str(home), "DSELAB_RUNTIME": "local", "DSELAB_LOOPBACK": "127.0.91",
                        "DSELAB_JMX_BASE": "12600", **extra}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(LocalRuntime, "is_running", lambda self, node: True)


def test_the_fast_path_prints_the_servers_answer(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from dselab import entry

    fast_env(monkeypatch, home)
    server = stand_in(lambda ms, argv: reply(ns.RAN, 2, b"out\r\n", b"error: x\n"))
    assert entry.fast_nodetool(["--node", "dse-node-1", "flush", "nope"]) == 2
    assert capsys.readouterr() == ("out\n", "error: x\n")
    assert server.seen[0][1] == ["-h", "127.0.0.1", "-p", "12700", "flush", "nope"]


@pytest.mark.parametrize(("argv", "extra"), [
    (["status"], {"DSELAB_WARM_NODETOOL": "0"}), (["status"], {"DSELAB_TOOLS_CONF": "/srv/tools"}),
    (["status"], {"DSELAB_RUNTIME": "docker"}), (["snapshot", "-t", "a;b"], {}), (["--node", "nope", "status"], {}),
    (["status"], {"DSELAB_JMX_BASE": "bad"}), (["status"], {"DSELAB_NODETOOL": "3.11"}),
])
def test_anything_else_is_the_clis(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch,
                                   argv: list[str], extra: dict[str, str]) -> None:
    from dselab import entry

    fast_env(monkeypatch, home, **extra)
    server = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"warm\n", b""))
    assert entry.fast_nodetool(argv) is None
    assert server.seen == []


def test_a_node_that_is_down_is_the_clis_to_report(home: Path, stand_in: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab import entry

    fast_env(monkeypatch, home)
    monkeypatch.setattr(LocalRuntime, "is_running", lambda self, node: False)
    server = stand_in(lambda ms, argv: reply(ns.RAN, 0, b"warm\n", b""))
    assert entry.fast_nodetool(["status"]) is None and server.seen == []


def test_nothing_is_made_in_a_home_that_is_not_ours(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root (or an observer) reading a seat's cluster neither uses nor makes a server folder in the seat's home."""
    started = no_start(monkeypatch)
    real = os.geteuid()
    monkeypatch.setattr(ns.os, "geteuid", lambda: real + 1)
    assert ns.run(ns.place(home, "lab"), P + ["status"], 5, lambda: LAUNCH) is None
    assert started == [] and not (home / "run").exists()


UNMMAPER = (b"ERROR 2026-11-30 10:00:00,000 Cannot initialize un-mmaper.  (Are you using a non-Oracle JVM?)\n"
            b"java.lang.NoSuchMethodError: 'sun.misc.Cleaner sun.nio.ch.DirectBuffer.cleaner()'\n"
            b"\tat org.apache.cassandra.io.util.FileUtils.<clinit>(FileUtils.java:75)\n")


def test_the_3_11_client_a_lab_chose_asks_its_own_server(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Lab 05 started (3.11 chosen): the fast path asks the cluster's 3.11 server, never the native
    one, and filters its stderr as the CLI filters a cold 3.11 run's."""
    from dselab import entry
    from dselab.settings import Settings as Config
    from dselab.state import StateStore

    fast_env(monkeypatch, home)
    native = StandIn(ns.place(home, "lab"), lambda ms, argv: reply(ns.RAN, 0, b"native\n", b""))
    legacy = StandIn(ns.place(home, "lab", "3.11"), lambda ms, argv: reply(ns.RAN, 2, b"3.11\n", UNMMAPER + b"error: x\n"))
    try:
        StateStore.for_runtime("local", Config(home=home, cache=home / "cache")).set_student_nodetool("3.11")
        assert entry.fast_nodetool(["status"]) == 2
        assert capsys.readouterr() == ("3.11\n", "error: x\n")
        assert native.seen == [] and len(legacy.seen) == 1
        monkeypatch.setenv("DSELAB_NODETOOL", "native")
        assert entry.fast_nodetool(["status"]) == 0
        assert capsys.readouterr() == ("native\n", "")
    finally:
        native.close()
        legacy.close()


# -- the 3.11 client's server -----------------------------------------------------------------

def test_each_client_has_its_own_socket_lock_and_log(home: Path) -> None:
    native, legacy = ns.place(home, "lab"), ns.place(home, "lab", "3.11")
    assert (native.socket.name, native.lock.name, native.log.name) == (
        "nodetool-lab.sock", "nodetool-lab.lock", "nodetool-lab.log")
    assert (legacy.socket.name, legacy.lock.name, legacy.log.name) == (
        "nodetool-lab-3.11.sock", "nodetool-lab-3.11.lock", "nodetool-lab-3.11.log")
    assert legacy.folder == native.folder  # the same 0700 run folder, the same trust checks
    held = ns._take_lock(native) if ns.usable(native) else None
    assert held is not None
    try:
        assert ns._take_lock(legacy) is not None  # one server per cluster per client
    finally:
        os.close(held)


def test_the_launcher_runs_the_entry_class_and_client_init_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    execs: list[list[str]] = []
    monkeypatch.setattr(ns, "compiled", lambda launch: Path("/classes"))
    monkeypatch.setattr(ns.os, "set_inheritable", lambda fd, on: None)
    monkeypatch.setattr(ns.os, "execv", lambda path, argv: execs.append(argv))
    legacy = ns.Launch(**{**ns.asdict(LAUNCH), "entry": "LegacyNodetool", "client_init": True})
    for launch in (LAUNCH, legacy):
        ns.launch_main(9, "/run/x.sock", json.dumps(ns.asdict(launch), default=str))
    server_args = ["/run/x.sock", "/nonexistent-root", str(ns.IDLE_EXIT_S), str(ns.WORKERS)]
    assert execs[0][-6:] == [ns.MAIN_CLASS, *server_args, "org.apache.cassandra.tools.NodeTool"]
    assert execs[1][-7:] == [ns.MAIN_CLASS, *server_args, "LegacyNodetool", "client-init"]


def test_the_runtime_sends_the_3_11_clients_calls_to_its_server(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    native = StandIn(ns.place(home, "lab"), lambda ms, argv: reply(ns.RAN, 0, b"native\n", b""))
    legacy = StandIn(ns.place(home, "lab", "3.11"), lambda ms, argv: reply(ns.RAN, 0, b"3.11\n", UNMMAPER))
    try:
        rt = runtime(home)
        monkeypatch.setattr(rt, "require_running", rt.spec)
        monkeypatch.setattr(rt, "_run", lambda *a, **k: pytest.fail("a JVM was started"))
        res = rt.student_nodetool("dse-seed", ["listsnapshots"], "3.11", timeout=30)
        assert (res.argv, res.returncode, res.stdout, res.stderr) == (("nodetool", "listsnapshots"), 0, "3.11\n", "")
        assert legacy.seen == [(30000, ["-h", "127.0.0.1", "-p", str(rt.spec("dse-seed").jmx_port), "listsnapshots"])]
        assert native.seen == []
    finally:
        native.close()
        legacy.close()


@pytest.mark.parametrize("changes", [{"warm_nodetool": False}, {"tools_conf": Path("/srv/tools-conf")}])
def test_the_3_11_client_is_cold_when_off_by_setting_and_for_an_observer(
        home: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]) -> None:
    from dselab.runtime import legacy_nodetool

    legacy = StandIn(ns.place(home, "lab", "3.11"), lambda ms, argv: reply(ns.RAN, 0, b"warm\n", b""))
    try:
        rt = runtime(home, **changes)
        monkeypatch.setattr(rt, "require_running", rt.spec)
        monkeypatch.setattr(legacy_nodetool, "client", lambda *a: legacy_nodetool.LegacyClient(
            type("D", (), {"classpath": "/lib/*"})(), Path("/classes")))
        cold: list[Any] = []

        def run_cold(*args: Any, **kwargs: Any) -> CommandResult:
            cold.append(args)
            return CommandResult(("nodetool",), 0, "cold\n", "")
        monkeypatch.setattr(rt, "_run", run_cold)
        assert rt.student_nodetool("dse-seed", ["status"], "3.11").stdout == "cold\n"
        assert legacy.seen == [] and len(cold) == 1 and "LegacyNodetool" in cold[0][1]
    finally:
        legacy.close()


@pytest.mark.parametrize("args", [["sjk", "ttop"], ["help"], ["help", "snapshot"], []])
def test_help_and_sjk_of_the_3_11_client_are_never_sent(home: Path, args: list[str]) -> None:
    legacy = StandIn(ns.place(home, "lab", "3.11"), lambda ms, argv: reply(ns.RAN, 0, b"", b""))
    try:
        assert ns.run(ns.place(home, "lab", "3.11"), P + args, 5) is None and legacy.seen == []
    finally:
        legacy.close()


@pytest.mark.parametrize(("changes", "where"), [
    ({}, "run"), ({"tools_conf": Path("/srv/tools-conf"), "warm_nodetool_dir": "own"}, "own"),
    ({"tools_conf": Path("/srv/tools-conf")}, None), ({"warm_nodetool": False}, None)])
def test_warming_up_starts_the_server_where_it_may_be_used_only(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                                changes: dict[str, Any], where: str | None) -> None:
    """A lab run's start (and an observer's baseline) starts the server in the background: in the
    cluster's home, or an observer's own folder; never for an observer without one, nor when off."""
    if changes.get("warm_nodetool_dir"):
        changes["warm_nodetool_dir"] = home / "own"
    started: list[ns.Place] = []
    monkeypatch.setattr(ns, "start_quietly", lambda place, launch: started.append(place))
    rt = runtime(home, **changes)
    monkeypatch.setattr(rt, "is_running", lambda node: True)
    rt.warm_up_nodetool()
    assert [p.folder for p in started] == ([] if where is None else [home / where])
