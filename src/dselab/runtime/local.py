"""The embedded default: real Apache Cassandra nodes as local processes (ccm's approach).

Each node has its own folder under `<home>/clusters/<cluster>/<node>/` with conf/, data/,
commitlog/, logs/ and a pid file, its own 127.x address and its own JMX port (LocalSettings says
which). Preconditions (Java, loopback addresses, free ports, disk) are checked before any process
starts. What both runtimes share lives in common.py.

Whoever owns a node's folder (a classroom seat) may have planted links, FIFOs or huge files there:
every read of a node's files goes through safe_files (no link followed, regular files only, capped).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from dselab.errors import EnvironmentProblem, UsageError
from dselab.progress import Progress
from dselab.runtime import (
    class_archive,
    distribution,
    legacy_nodetool,
    nodetool_server,
    preflight,
    processes,
    safe_files,
)
from dselab.runtime.base import COMMAND_TIMEOUT_S, CommandResult, FileEntry, NodeStatus
from dselab.runtime.common import STOP_GRACE_S, CommonRuntime, last_lines
from dselab.runtime.local_config import (
    LOGBACK_XML,
    MEMBERS_TOGETHER_FLAGS,
    NATIVE_PORT,
    TOOLS_LOGBACK_XML,
    NodeSpec,
    cassandra_yaml,
    node_specs,
    server_jvm_args,
    tool_jvm_args,
    tools_conf_dir,
)
from dselab.runtime.local_settings import LocalSettings
from dselab.settings import Settings

TOOL_MAINS = {"sstableloader": "org.apache.cassandra.tools.BulkLoader"}
NODETOOL_MAIN = "org.apache.cassandra.tools.NodeTool"
SERVER_MAIN = "org.apache.cassandra.service.CassandraDaemon"
# How often a starting node's log is read for its ready line (a read of a few hundred KiB). At 1 s
# a node was found ready 0.5 s late on average, per node; 0.25 s costs nothing measurable.
READY_POLL_S = 0.25
# The seed's log line once it answers gossip. A node that joins does a shadow round with the seed
# first and gives up ("Unable to gossip with any peers") after ring_delay_ms without an answer, so
# the other nodes are started from this line on, while the seed finishes its own start.
SEED_GOSSIP_LINE = "Starting up server gossip"
# On a loaded machine the seed may not answer that shadow round in time; the node then exits with
# this line. Nothing of it was written that a second start would trip over, so it starts once more.
NO_GOSSIP_LINE = "Unable to gossip with any peers"


def warm_result(args: Sequence[str], reply: nodetool_server.Reply) -> CommandResult:
    """A warm server's reply as the CommandResult a nodetool JVM's run gives."""
    return CommandResult(("nodetool", *args), reply.returncode, nodetool_server.as_text(reply.stdout),
                         nodetool_server.as_text(reply.stderr))


@dataclass(frozen=True)
class Launch:
    """A node process just started: what waiting for it needs."""

    node: str
    proc: subprocess.Popen[bytes]
    mark: int  # the size of its system.log before the start
    members: bool  # started with every other node of a cluster whose nodes all joined before


class LocalRuntime(CommonRuntime):
    """One local cluster: "lab" (three nodes) or "restore" (the sstableloader target)."""

    up_fix = "start it with `./scripts/up-cluster.sh` or `dselab up`"

    def __init__(self, cluster: str = "lab", progress: Progress | None = None,
                 cassandra_home: str | None = None, settings: LocalSettings | None = None,
                 config: Settings | None = None) -> None:
        super().__init__(cluster, progress, config)
        self.name = "local"
        self.settings = settings or LocalSettings.from_env(self.config)
        self.root = self.settings.cluster_root(cluster)
        self._anchor = safe_files.anchor(self.settings.home)  # reads walk down from here, no link followed
        self.specs = node_specs(cluster, self.settings)
        self._cassandra_home = cassandra_home
        self._dist: distribution.Distribution | None = None

    # -- identity -----------------------------------------------------------------------------

    def spec(self, node: str) -> NodeSpec:
        return self.specs[self.check_node(node)]

    @property
    def dist(self) -> distribution.Distribution:
        if self._dist is None:
            self._dist = distribution.ensure(self.progress, self._cassandra_home, self.config)
        return self._dist

    def cassandra_version(self) -> str:
        return self.dist.version

    def address(self, node: str) -> str:
        return self.spec(node).address

    def for_cluster(self, cluster: str, progress: Progress | None = None) -> LocalRuntime:
        other = LocalRuntime(cluster, progress or self.progress, self._cassandra_home, self.settings, self.config)
        other._dist = self._dist  # verified once is enough
        return other

    def exists(self) -> bool:
        return all((s.conf_dir / "cassandra.yaml").exists() for s in self.specs.values())

    # -- processes ----------------------------------------------------------------------------

    def process(self, node: str) -> psutil.Process | None:
        """The node's live process, or None."""
        try:
            pid = int(safe_files.read_whole(self._anchor, self._below(node, "cassandra.pid"), safe_files.MAX_PID_BYTES))
        except (OSError, ValueError, safe_files.RefusedPath):
            return None
        return processes.node_process(pid, str(self.spec(node).conf_dir))

    def is_running(self, node: str) -> bool:
        return self.process(node) is not None

    def _write_config(self, spec: NodeSpec) -> None:
        for sub in ("conf", "data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs"):
            (spec.root / sub).mkdir(parents=True, exist_ok=True)
        (spec.conf_dir / "cassandra.yaml").write_text(cassandra_yaml(spec))
        (spec.conf_dir / "logback.xml").write_text(LOGBACK_XML.format(log_dir=spec.log_dir))
        (spec.conf_dir / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)

    def joined(self, node: str) -> bool:
        """The node has started before (its system keyspace is on disk): it is in the ring already
        and knows its peers, so it neither bootstraps nor needs the seed's gossip to begin."""
        return (self.spec(node).root / "data" / "system").is_dir()

    def up_nodes(self, nodes: Sequence[str], members: bool = False) -> None:
        """Start the nodes that are not running. When every one of them has joined before (a
        cluster stopped with its data, or made from a template; `members` says so up front), all
        start at once: each finds the others in its own shadow round, and Cassandra's own wait for
        its peers (block_for_peers_timeout_in_secs) ends as soon as they are up. Otherwise the seed
        first; from the moment it answers gossip, every node that does not bootstrap; a
        bootstrapping node alone, once they are up."""
        todo = [n for n in nodes if not self.is_running(n)]
        if not todo:
            return
        preflight.check_all([self.specs[n] for n in todo], NATIVE_PORT, disk_root=self.root,
                            java_home=self.config.java_home)
        _ = self.dist  # fetch before touching any node
        members = members or all(self.joined(n) for n in todo)
        together = [n for n in todo if members or not self.specs[n].auto_bootstrap]
        launches = []
        for node in together:
            launches.append(self._launch(node, members=members and len(together) > 1))
            if node == self.node_names()[0] and len(together) > 1 and not members:
                self._await_gossip(launches[-1])
        for launch in launches:
            self._await_ready(launch)
        for node in todo:
            if node not in together:
                self.start_node(node, checked=True)

    def start_node(self, node: str, checked: bool = False) -> None:
        spec = self.spec(node)
        if self.is_running(node):
            return
        if not checked:
            preflight.check_all([spec], NATIVE_PORT, disk_root=self.root, java_home=self.config.java_home)
        self._await_ready(self._launch(node))

    def server_argv(self, spec: NodeSpec, members: bool = False) -> list[str]:
        """The command line of a node's Cassandra (benchmarks/node_start.py times it as it is). Its
        conf/ (commitlog_archiving.properties is read from the classpath) comes after the jars,
        which hold no such file: the JVM then maps one class archive (class_archive.py) for every
        node of every cluster, whatever folder follows the jars. `members`: it starts together
        with the rest of a cluster whose nodes have all joined before (MEMBERS_TOGETHER_FLAGS)."""
        java = preflight.java_binary(self.config.java_home)
        archive = self.archive_of(java, SERVER_MAIN)
        together = MEMBERS_TOGETHER_FLAGS if members else []
        return [java, *archive.flags(owner=str(spec.root)), *server_jvm_args(spec, self.dist.jamm_agent),
                *together, "-cp", f"{self.dist.classpath}:{spec.conf_dir}", SERVER_MAIN]

    def archive_of(self, java: str, entry: str) -> class_archive.Archive:
        """The class archive of this distribution's JVMs that run `entry` (a node runs jamm)."""
        agent = entry == SERVER_MAIN and self.dist.jamm_agent is not None
        return class_archive.for_jvm(self.config.cache / "class-archives", java, self.dist.classpath, entry, agent,
                                     enabled=self.config.class_archives)

    def prepare_tool_archive(self) -> bool:
        """Make nodetool's class archive now, for a cache that the JVMs using it may only read (a
        classroom's toolchain: root makes it, seats and observers map it). The JVM asks port 0, where
        nothing ever listens, for the version: it loads nodetool's commands and its JMX client, fails
        to connect, and dumps as it exits. True when the archive is there and trusted."""
        java = preflight.java_binary(self.config.java_home)
        archive = self.archive_of(java, NODETOOL_MAIN)
        if not archive.enabled or class_archive.trusted(archive.path):
            return archive.enabled
        spec = self.spec(self.node_names()[0])  # for its tools' conf/ only: no node is asked
        argv = self.tool_argv(spec, NODETOOL_MAIN, ["-h", "127.0.0.1", "-p", "0", "version"])
        self._run(spec.name, argv, ("nodetool", "version"), COMMAND_TIMEOUT_S, None)
        return class_archive.trusted(archive.path)

    def _launch(self, node: str, members: bool = False) -> Launch:
        spec = self.spec(node)
        self._write_config(spec)
        mark = self._log_size(node, debug=False)
        argv = self.server_argv(spec, members)
        self.progress.step(f"starting {node} on {spec.address}")
        with (spec.log_dir / "output.log").open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=spec.root,
                                    start_new_session=True)
        spec.pid_file.write_text(str(proc.pid))
        return Launch(node, proc, mark, members)

    def _await_gossip(self, seed: Launch) -> None:
        """Until the seed answers gossip; or stops, or takes too long: its own wait says why."""
        started = time.monotonic()
        while (SEED_GOSSIP_LINE not in self._read_log(seed.node, False, seed.mark)
               and seed.proc.poll() is None and time.monotonic() - started < self.config.start_timeout_s):
            self.progress.step(f"waiting for {seed.node} to answer gossip ({time.monotonic() - started:.0f}s)")
            time.sleep(READY_POLL_S)

    def _await_ready(self, launch: Launch, again: bool = True) -> None:
        node, proc, spec = launch.node, launch.proc, self.spec(launch.node)

        def gone() -> str | None:
            return None if proc.poll() is None else f"exited with code {proc.returncode}"

        try:
            self.wait_ready(node, lambda: self._read_log(node, False, launch.mark), gone,
                            fix=f"see {spec.log_dir}/system.log and output.log", interval=READY_POLL_S)
        except EnvironmentProblem:
            if not (again and proc.poll() is not None and NO_GOSSIP_LINE in self._read_log(node, False, launch.mark)):
                raise
            self.progress.step(f"{node} found no peer to gossip with in time (a busy machine): starting it again")
            self._await_ready(self._launch(node, launch.members), again=False)
            return
        self.progress.done(f"{node} is up ({spec.address})")

    def stop_node(self, node: str, grace: float = STOP_GRACE_S) -> None:
        self._stop([node], grace, f"stopping {node}")

    def stop_nodes(self, nodes: Sequence[str]) -> None:
        """Every node drains at the same time: three clean stops in the time of about one."""
        self._stop(nodes, STOP_GRACE_S, f"stopping {', '.join(nodes)} (each drains)")

    def _stop(self, nodes: Sequence[str], grace: float, saying: str) -> None:
        """SIGTERM to the nodes at once, SIGKILL to any still there after `grace`; a class archive
        a node wrote as it exited is put in place only if it exited by itself."""
        procs = {node: proc for node in nodes if (proc := self.process(node)) is not None}
        if not procs:
            return
        for node in procs:
            self.close_cql(node)
        self.progress.step(saying)
        dumps = {node: class_archive.dump_file_of(processes.cmdline(proc)) for node, proc in procs.items()}
        killed = processes.stop_all(list(procs.values()), grace)
        for node, proc in procs.items():
            class_archive.settle(dumps[node], clean=proc not in killed)
            self.spec(node).pid_file.unlink(missing_ok=True)
            self.progress.done(f"{node} stopped")

    def kill_node(self, node: str) -> None:
        """Simulate a crash (used by the robustness tests): SIGKILL, no drain."""
        proc = self.process(node)
        if proc is not None:
            self.close_cql(node)
            dump = class_archive.dump_file_of(processes.cmdline(proc))
            processes.kill(proc)
            class_archive.settle(dump, clean=False)

    def _purge(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
            self.progress.done(f"removed {self.root}")

    def _node_status(self, node: str, ring: dict[str, str]) -> NodeStatus:
        spec = self.spec(node)
        proc = self.process(node)
        return NodeStatus(name=node, address=spec.address,
                          state=self.ring_state(ring, spec.address, proc is not None),
                          version=self.cassandra_version(), data_dir=str(spec.data_dir),
                          pid=proc.pid if proc else None)

    # -- commands -----------------------------------------------------------------------------

    def require_running(self, node: str) -> NodeSpec:
        spec = self.spec(node)
        if not self.is_running(node):
            raise self.not_running(node)
        return spec

    def _java_tool(self, spec: NodeSpec, main: str, args: Sequence[str], shown: tuple[str, ...],
                   timeout: float, cwd: Path | None = None) -> CommandResult:
        return self._run(spec.name, self.tool_argv(spec, main, args), shown, timeout, cwd)

    def tool_argv(self, spec: NodeSpec, main: str, args: Sequence[str]) -> list[str]:
        """A client JVM's command line (nodetool, sstableloader). Its conf/ comes after the jars
        (which hold no file of its), as a node's does, so that it maps a class archive."""
        java = preflight.java_binary(self.config.java_home)
        conf = tools_conf_dir(spec, self.config.tools_conf)
        archive = self.archive_of(java, main).flags(owner=f"{os.getpid()}-{time.time_ns()}")
        return [java, *archive, *tool_jvm_args(conf, nodetool=main == NODETOOL_MAIN), "-cp",
                f"{self.dist.classpath}:{conf}", main, *args]

    def _run(self, node: str, argv: Sequence[str], shown: Sequence[str], timeout: float,
             cwd: Path | None) -> CommandResult:
        dump = class_archive.dump_file_of(list(argv))
        try:
            proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, cwd=cwd)
        except subprocess.TimeoutExpired:
            class_archive.settle(dump, clean=False)
            raise self.timeout_error(node, timeout, f"`{' '.join(shown)}`") from None
        class_archive.settle(dump, clean=True)
        return CommandResult(tuple(shown), proc.returncode, proc.stdout, proc.stderr)

    def nodetool(self, node: str, args: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        spec = self.require_running(node)
        argv = ["-h", "127.0.0.1", "-p", str(spec.jmx_port), *args]
        warm = self._warm_nodetool(spec, argv, timeout)
        if warm is not None:
            return warm_result(args, warm)
        return self._java_tool(spec, NODETOOL_MAIN, argv, ("nodetool", *args), timeout)

    def student_nodetool(self, node: str, args: Sequence[str], client: str,
                         timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        """With client "3.11", the DSE 5.1 generation's nodetool (runtime/legacy_nodetool.py): the
        cluster's warm server for that client first (its own, beside the native one), else a JVM."""
        if client != legacy_nodetool.CLIENT:
            return self.nodetool(node, args, timeout)
        spec = self.require_running(node)
        jmx = ["-h", "127.0.0.1", "-p", str(spec.jmx_port)]
        warm = self._warm_nodetool(spec, [*jmx, *args], timeout, legacy_nodetool.CLIENT)
        if warm is not None:
            result = warm_result(args, warm)
        else:
            cold = self._legacy_launch(spec, tools_conf_dir(spec, self.config.tools_conf))
            argv = [cold.java, *cold.jvm_args, "-cp", cold.classpath, cold.entry, *jmx, *args]
            result = self._run(spec.name, argv, ("nodetool", *args), timeout, None)
        return replace(result, stderr=legacy_nodetool.without_unmmaper_trace(result.stderr))

    def prepare_student_nodetool(self, client: str) -> None:
        """Fetch the student's nodetool now (at `dselab start`) and start its warm server in the
        background, so that the first command a student types is answered warm too."""
        if client == legacy_nodetool.CLIENT:
            legacy_nodetool.client(preflight.java_binary(self.config.java_home), self.config, self.progress)
        self.warm_up_nodetool(client if client == legacy_nodetool.CLIENT else None)

    def warm_up_nodetool(self, client: str | None = None) -> None:
        """Start the cluster's warm nodetool server for `client` in the background (nothing waits for
        it) when it may be used and a node runs: the first call is then answered warm too."""
        seed = self.node_names()[0]
        if self._may_warm() and self.is_running(seed):
            nodetool_server.start_quietly(self.warm_nodetool_place(client),
                                          lambda: self.warm_nodetool_launch(self.spec(seed), client))

    def _may_warm(self) -> bool:
        """With a tools config set (a classroom observer reading a seat's cluster), only in a folder
        given for it (DSELAB_WARM_NODETOOL_DIR, in the observer's own home): a server in the seat's
        folders would be the seat's to start or replace. The server then runs the tools config too."""
        return self.config.warm_nodetool and (self.config.tools_conf is None or self.config.warm_nodetool_dir is not None)

    def _warm_nodetool(self, spec: NodeSpec, argv: Sequence[str], timeout: float,
                       client: str | None = None) -> nodetool_server.Reply | None:
        """The cluster's warm nodetool server's answer (for `client`: None the nodes' own, "3.11"),
        or None to start a JVM (runtime/nodetool_server.py; never for an observer: _may_warm)."""
        if not self._may_warm():
            return None
        try:
            return nodetool_server.run(self.warm_nodetool_place(client), argv, timeout,
                                       lambda: self.warm_nodetool_launch(spec, client))
        except nodetool_server.TimedOut:
            raise self.timeout_error(spec.name, timeout, f"`nodetool {' '.join(argv[4:])}`") from None

    def warm_nodetool_place(self, client: str | None = None) -> nodetool_server.Place:
        if self.config.warm_nodetool_dir is not None:
            return nodetool_server.Place(self.config.warm_nodetool_dir, self.cluster, client)
        return nodetool_server.place(self.settings.home, self.cluster, client)

    def warm_nodetool_launch(self, spec: NodeSpec, client: str | None = None) -> nodetool_server.Launch:
        """How this cluster's warm nodetool server for `client` starts: that client's own JVM flags,
        classpath and entry, as its cold JVM has them (the 3.11 client's fetched and compiled here)."""
        conf = tools_conf_dir(spec, self.config.tools_conf)
        if client == legacy_nodetool.CLIENT:
            return self._legacy_launch(spec, conf)
        return nodetool_server.Launch(
            java=preflight.java_binary(self.config.java_home), jvm_args=tuple(tool_jvm_args(conf, nodetool=True)),
            classpath=f"{conf}:{self.dist.classpath}", cassandra_version=self.dist.version, cache=self.config.cache,
            cluster_root=self.root)

    def _legacy_launch(self, spec: NodeSpec, conf: Path) -> nodetool_server.Launch:
        """The 3.11 client as a JVM runs it (java, flags, classpath, launcher), fetched and compiled
        here: one description for its cold call and its warm server."""
        java = preflight.java_binary(self.config.java_home)
        legacy = legacy_nodetool.client(java, self.config, self.progress)
        return nodetool_server.Launch(
            java=java, jvm_args=tuple(tool_jvm_args(conf, nodetool=True, legacy=True)),
            classpath=f"{conf}:{legacy.classpath}", cassandra_version=legacy_nodetool.VERSION,
            cache=self.config.cache, cluster_root=self.root, entry=legacy_nodetool.MAIN_CLASS, client_init=True)

    def tool(self, node: str, tool: str, args: Sequence[str],
             timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        """Offline tools run next to a node, in its data directory."""
        main = TOOL_MAINS[self.check_tool(tool)]
        spec = self.require_running(node)
        return self._java_tool(spec, main, args, (tool, *args), timeout, cwd=spec.data_dir)

    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None,
             timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        """Run a command "on" the node: here, in its data directory on this machine."""
        cwd = self._inside(node, workdir) if workdir else self.spec(node).data_dir
        try:
            return self._run(node, argv, argv, timeout, cwd)
        except FileNotFoundError:
            if not cwd.is_dir():
                raise EnvironmentProblem(f"{node} has no folder {cwd} yet", fix=self.up_fix) from None
            raise UsageError(f"no such command: {argv[0]}") from None

    def cqlsh_argv(self, node: str, args: Sequence[str]) -> list[str]:
        spec = self.require_running(node)
        # Beside our interpreter first: pipx exposes only `dselab`, not the cqlsh installed with it.
        cqlsh = shutil.which("cqlsh", path=os.pathsep.join([str(Path(sys.executable).parent), *os.get_exec_path()]))
        if not cqlsh:
            raise EnvironmentProblem("cqlsh is not installed", fix="run `make setup` (pip installs cqlsh)")
        return [cqlsh, spec.address, str(NATIVE_PORT), *args]

    def _connect(self, node: str) -> Any:
        from dselab.cql import connect

        return connect(self.spec(node).address, NATIVE_PORT)

    # -- files and logs -----------------------------------------------------------------------

    def data_dir(self, node: str) -> str:
        return str(self.spec(node).data_dir)

    def _below(self, node: str, *parts: str) -> str:
        """A path of the node's folder relative to the anchor, for safe_files."""
        return "/".join((f"clusters/{self.cluster}/{self.check_node(node)}", *parts))

    def _data(self, node: str, relative: str) -> str:
        try:
            return self._below(node, "data", *safe_files.components(relative))
        except safe_files.RefusedPath:
            raise self.outside_data_dir(node, relative) from None

    def _inside(self, node: str, relative: str) -> Path:
        """The path below the data folder (lexically: '..' and absolute paths are refused)."""
        return self._anchor / self._data(node, relative)

    def list_files(self, node: str, relative: str = "") -> list[FileEntry]:
        """Regular files below data/RELATIVE, links not entered, capped (see safe_files): a
        truncated listing says so in its `truncated`."""
        top = self._data(node, relative)
        prefix = "/".join(safe_files.components(relative))
        try:
            found = safe_files.list_capped(self._anchor, top)
        except FileNotFoundError:
            return safe_files.Listing()
        if prefix:
            listing = safe_files.Listing(replace(e, path=f"{prefix}/{e.path}") for e in found)
            listing.truncated = found.truncated
            return listing
        return found

    def read_text(self, node: str, relative: str) -> str:
        data = safe_files.read_whole(self._anchor, self._data(node, relative), safe_files.MAX_TEXT_BYTES)
        return data.decode("utf-8", "replace")

    def read_bytes(self, node: str, relative: str, limit: int) -> bytes:
        """At most `limit` bytes from the start of a regular file, opened below held descriptors."""
        return safe_files.read_prefix(self._anchor, self._data(node, relative), max(0, limit))

    def copy_files(self, node: str, sources: Sequence[str], dest_dir: str) -> None:
        with safe_files.opened_below(self._anchor, self._data(node, dest_dir), directory=True, create=True) as folder:
            for src in sources:
                safe_files.copy_into(self._anchor, self._data(node, src), folder)

    def remove_files(self, node: str, relatives: Sequence[str]) -> None:
        for rel in relatives:
            parent, _, name = self._data(node, rel).rpartition("/")
            try:
                with safe_files.opened_below(self._anchor, parent, directory=True) as folder:
                    os.unlink(name, dir_fd=folder)  # unlink never follows the final link either
            except FileNotFoundError:
                pass

    def _log(self, node: str, name: str) -> str:
        return self._below(node, "logs", name)

    def _log_size(self, node: str, debug: bool) -> int:
        return safe_files.size_below(self._anchor, self._log(node, "debug.log" if debug else "system.log"))

    def _read_log(self, node: str, debug: bool, offset: int) -> str:
        """The log from `offset` on, at most its last MAX_LOG_BYTES: a note says what was skipped."""
        try:
            chunk = safe_files.read_capped(self._anchor, self._log(node, "debug.log" if debug else "system.log"),
                                           offset, safe_files.MAX_LOG_BYTES)
        except FileNotFoundError:
            return ""
        text = chunk.data.decode("utf-8", "replace")
        if not chunk.skipped:
            return text
        _, newline, whole_lines = text.partition("\n")  # the first line is cut: drop it
        return (f"[dselab: {chunk.skipped} bytes of this log were not read: a read keeps its last "
                f"{safe_files.MAX_LOG_BYTES >> 20} MiB]\n" + (whole_lines if newline else text))

    def log_tail(self, node: str, lines: int = 40) -> list[str]:
        """The system log's last lines (output.log's when the JVM died before logging); capped."""
        want = min(safe_files.MAX_LOG_BYTES, max(8000, 400 * lines))
        for name in ("system.log", "output.log"):
            try:
                chunk = safe_files.read_capped(self._anchor, self._log(node, name), 0, want)
            except FileNotFoundError:
                continue
            if chunk.data:
                return last_lines(chunk.data.decode("utf-8", "replace"), lines)
        return []
