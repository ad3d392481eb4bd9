"""nodetool JVMs run with a jdk.serialFilter (runtime/nodetool_jvm.py): every nodetool command the
labs, checks and tests use still works on a real node, and a hostile JMX endpoint on a node's port
(what a classroom seat could run in place of its node) gets its gadget refused before the gadget's
readObject runs. A port that accepts and never answers fails a call within seconds, not Java's
default 60 s RMI handshake."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dselab import environment, service
from dselab.runtime import preflight
from dselab.runtime.local import NODETOOL_MAIN, LocalRuntime
from dselab.runtime.local_config import TOOLS_LOGBACK_XML, tool_jvm_args
from dselab.runtime.local_settings import LocalSettings
from dselab.settings import TOOLS_CONF as TOOLS_CONF_ENV
from dselab.settings import current

pytestmark = pytest.mark.skipif(os.environ.get("DSELAB_TEST_RUNTIME", "local") != "local",
                                reason="the filter is on the JVMs the local runtime starts")
HOSTILE_SOURCE = Path(__file__).parent / "hostile_jmx" / "HostileJmx.java"
KS = environment.KEYSPACE
TAG = "serial_filter_probe"

# Every nodetool command in labs/, checks/, scripts and the tests, with the forms they take.
READS = [["status"], ["status", KS], ["describecluster"], ["info"], ["version"], ["ring"], ["gossipinfo"],
         ["compactionstats"], ["listsnapshots"], ["statusbackup"], ["tablestats", KS],
         ["tablestats", "-F", "json", KS], ["tablestats", "-F", "json"]]
CHANGES = [["snapshot", "-t", TAG, KS], ["snapshot", "-t", f"{TAG}_kt", "-kt", f"{KS}.customers"],
           ["listsnapshots"], ["clearsnapshot", "-t", TAG, KS], ["clearsnapshot", "-t", f"{TAG}_kt"],
           ["enablebackup"], ["statusbackup"], ["disablebackup"], ["flush", KS], ["cleanup", KS],
           ["refresh", KS, "customers"], ["snapshot", "-t", TAG], ["clearsnapshot", "--all"]]


def test_every_nodetool_command_the_labs_use_passes_the_filter(lab_workspace: service.Workspace,
                                                               tmp_path: Path) -> None:
    runtime = lab_workspace.runtime
    for args in [*READS, *CHANGES, ["import", KS, "customers", str(tmp_path)]]:
        res = runtime.nodetool("dse-seed", args, timeout=300)
        said = res.stdout + res.stderr
        assert res.ok and "REJECTED" not in said, f"nodetool {' '.join(args)}: {said[-2000:]}"
    # A node's own error (an exception thrown over JMX) still reads as nodetool's message.
    res = runtime.nodetool("dse-seed", ["snapshot", "-t", TAG, "no_such_keyspace"])
    assert not res.ok and "Keyspace no_such_keyspace does not exist" in res.stdout + res.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hostile_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalRuntime, Path, Path]]:
    """A seat's dse-seed replaced by HostileJmx on its JMX port, its pid in the pid file; the gadget's
    classes sit in the tools' conf folder, at the head of nodetool's classpath (as a gadget on
    Cassandra's own classpath would). Yields the runtime, that folder and the marker path."""
    javac = shutil.which("javac")
    if not javac:
        pytest.skip("javac (a JDK) is needed to build the hostile endpoint")
    classes = tmp_path / "tools-conf"
    classes.mkdir()
    subprocess.run([javac, "-d", str(classes), str(HOSTILE_SOURCE)], check=True, timeout=300)
    (classes / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)
    monkeypatch.setenv(TOOLS_CONF_ENV, str(classes))
    runtime = LocalRuntime("lab", settings=LocalSettings(home=tmp_path / "seat", loopback="127.0.63",
                                                         jmx_base=_free_port()))
    spec = runtime.spec("dse-seed")
    spec.conf_dir.mkdir(parents=True)
    marker = tmp_path / "gadget-ran"
    java = preflight.java_binary(current().java_home)
    server = subprocess.Popen([java, "-Djava.rmi.server.hostname=127.0.0.1", "-cp", str(classes),
                               "HostileJmx", str(spec.jmx_port), str(marker), str(spec.conf_dir)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        spec.pid_file.write_text(str(server.pid))
        yield runtime, classes, marker
    finally:
        server.kill()
        server.wait()
        if server.stdout:
            server.stdout.close()


def test_a_hostile_jmx_endpoint_gets_its_gadget_refused(hostile_node: tuple[LocalRuntime, Path, Path]) -> None:
    runtime, classes, marker = hostile_node
    res = runtime.nodetool("dse-seed", ["version"], timeout=120)
    said = res.stdout + res.stderr
    assert not res.ok and "REJECTED" in said, said[-2000:]
    assert not marker.exists()  # the Canary's readObject never ran
    # The same nodetool without the filter runs the gadget: the refusal above is the filter's doing.
    flags = [f for f in tool_jvm_args(classes, nodetool=True) if not f.startswith("-Djdk.serialFilter=")]
    spec = runtime.spec("dse-seed")
    subprocess.run([preflight.java_binary(current().java_home), *flags, "-cp", f"{classes}:{runtime.dist.classpath}",
                    NODETOOL_MAIN, "-h", "127.0.0.1", "-p", str(spec.jmx_port), "version"],
                   capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert marker.exists()


STALLED = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); print("ready", flush=True)
held = []
while True:  # accept, read the RMI handshake, answer nothing: the caller waits
    c, _ = s.accept(); c.recv(64); held.append(c)
"""


def test_a_jmx_port_that_never_answers_fails_nodetool_within_seconds(tmp_path: Path) -> None:
    """The warm server's call and a cold JVM's both give up after the 10 s handshake timeout the
    tools' JVMs carry (a check's call has 120 s: without it, each waited Java's 60 s)."""
    runtime = LocalRuntime("lab", settings=LocalSettings(home=tmp_path / "seat", loopback="127.0.63",
                                                         jmx_base=_free_port()))
    spec = runtime.spec("dse-seed")
    spec.conf_dir.mkdir(parents=True)
    (spec.conf_dir / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)
    stub = subprocess.Popen([sys.executable, "-c", STALLED, str(spec.jmx_port), str(spec.conf_dir)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout is not None and stub.stdout.readline().strip() == "ready"
        spec.pid_file.write_text(str(stub.pid))
        started = time.monotonic()
        res = runtime.nodetool("dse-seed", ["version"], timeout=120)
        warm = time.monotonic() - started
        assert not res.ok and warm < 40, (warm, res.stderr[-500:])
        started = time.monotonic()
        cold = subprocess.run(runtime.tool_argv(spec, NODETOOL_MAIN, ["-h", "127.0.0.1", "-p", str(spec.jmx_port),
                                                                       "version"]),
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        took = time.monotonic() - started
        assert cold.returncode != 0 and 9 < took < 40, (took, cold.stderr[-500:])
    finally:
        stub.kill()
        stub.wait()
        if stub.stdout:
            stub.stdout.close()
