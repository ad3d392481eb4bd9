"""The embedded default: real Apache Cassandra nodes as local processes (ccm's approach).

Each node has its own folder under `<DSELAB_HOME>/clusters/<cluster>/<node>/` with conf/, data/,
commitlog/, logs/ and a pid file, its own 127.x address and its own JMX port. Preconditions
(Java, free ports, disk) are checked before any process starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dselab import paths
from dselab.errors import ClusterDown, EnvironmentProblem, NodeTimeout, UsageError
from dselab.progress import Progress, Silent
from dselab.runtime import distribution, preflight
from dselab.runtime.base import CommandResult, FileEntry, NodeStatus
from dselab.runtime.local_config import (
    LOGBACK_XML,
    NATIVE_PORT,
    TOOLS_LOGBACK_XML,
    NodeSpec,
    cassandra_yaml,
    lab_specs,
    restore_specs,
    server_jvm_args,
    tool_jvm_args,
)

READY_LINE = "Starting listening for CQL clients"
START_TIMEOUT_S = float(os.environ.get("DSELAB_START_TIMEOUT", "300"))


class LocalRuntime:
    """One local cluster: "lab" (three nodes) or "restore" (the sstableloader target)."""

    def __init__(self, cluster: str = "lab", progress: Progress | None = None,
                 cassandra_home: str | None = None) -> None:
        self.name = "local"
        self.cluster = cluster
        self.root = paths.home() / "clusters" / cluster
        self.specs = (lab_specs if cluster == "lab" else restore_specs)(self.root)
        self.progress = progress or Silent()
        self._cassandra_home = cassandra_home
        self._dist: distribution.Distribution | None = None
        self._cql_sessions: dict[str, Any] = {}

    # -- identity -----------------------------------------------------------------------------

    def node_names(self) -> list[str]:
        return list(self.specs)

    def spec(self, node: str) -> NodeSpec:
        try:
            return self.specs[node]
        except KeyError:
            raise UsageError(
                f"unknown node {node!r}; the nodes are: {', '.join(self.specs)}"
            ) from None

    @property
    def dist(self) -> distribution.Distribution:
        if self._dist is None:
            self._dist = distribution.ensure(self.progress, self._cassandra_home)
        return self._dist

    def cassandra_version(self) -> str:
        return self.dist.version

    def address(self, node: str) -> str:
        return self.spec(node).address

    # -- processes ----------------------------------------------------------------------------

    def _pid(self, node: str) -> int | None:
        spec = self.spec(node)
        try:
            pid = int(spec.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        if not _alive(pid):
            return None
        # The pid could have been reused by another process: require this node's config path.
        return pid if str(spec.conf_dir).encode() in cmdline else None

    def is_running(self, node: str) -> bool:
        return self._pid(node) is not None

    def exists(self) -> bool:
        return all((s.conf_dir / "cassandra.yaml").exists() for s in self.specs.values())

    def _write_config(self, spec: NodeSpec) -> None:
        for sub in ("conf", "data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs"):
            (spec.root / sub).mkdir(parents=True, exist_ok=True)
        (spec.conf_dir / "cassandra.yaml").write_text(cassandra_yaml(spec))
        (spec.conf_dir / "logback.xml").write_text(LOGBACK_XML.format(log_dir=spec.log_dir))
        (spec.conf_dir / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)

    def up(self) -> None:
        """Start every node that is not running, in order (the seed first). Idempotent."""
        self.up_nodes(self.node_names())

    def up_nodes(self, nodes: Sequence[str]) -> None:
        todo = [n for n in nodes if not self.is_running(self.spec(n).name)]
        if not todo:
            return
        preflight.check_all(
            [self.specs[n] for n in todo], NATIVE_PORT, disk_root=self.root
        )
        _ = self.dist  # fetch before touching any node
        for node in todo:
            self.start_node(node, checked=True)

    def start_node(self, node: str, checked: bool = False) -> None:
        spec = self.spec(node)
        if self.is_running(node):
            return
        if not checked:
            preflight.check_all([spec], NATIVE_PORT, disk_root=self.root)
        self._write_config(spec)
        log = spec.log_dir / "system.log"
        mark = log.stat().st_size if log.exists() else 0
        java = preflight.java_binary()
        argv = [java, *server_jvm_args(spec, self.dist.jamm_agent), "-cp",
                f"{spec.conf_dir}:{self.dist.classpath}",
                "org.apache.cassandra.service.CassandraDaemon"]
        self.progress.step(f"starting {node} on {spec.address}")
        with (spec.log_dir / "output.log").open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=spec.root,
                                    start_new_session=True)
        spec.pid_file.write_text(str(proc.pid))
        self._wait_ready(spec, proc, mark)
        self.progress.done(f"{node} is up ({spec.address})")

    def _wait_ready(self, spec: NodeSpec, proc: subprocess.Popen, mark: int) -> None:
        started = time.monotonic()
        log = spec.log_dir / "system.log"
        while True:
            if proc.poll() is not None:
                raise EnvironmentProblem(
                    f"{spec.name} exited with code {proc.returncode} while starting; last log lines: "
                    + " | ".join(self._tail(spec, 3)),
                    fix=f"see {spec.log_dir}/system.log and output.log",
                )
            if log.exists() and READY_LINE in self._read_from(log, mark):
                return
            waited = time.monotonic() - started
            if waited > START_TIMEOUT_S:
                raise NodeTimeout(spec.name, waited, "CQL listening", "\n".join(self._tail(spec, 5)))
            self.progress.step(f"waiting for {spec.name} to listen for CQL ({waited:.0f}s)")
            time.sleep(1)

    @staticmethod
    def _read_from(path: Path, offset: int) -> str:
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")

    def _tail(self, spec: NodeSpec, lines: int) -> list[str]:
        for name in ("system.log", "output.log"):
            path = spec.log_dir / name
            if path.exists() and path.stat().st_size:
                text = self._read_from(path, max(0, path.stat().st_size - 8000))
                return [ln for ln in text.splitlines() if ln.strip()][-lines:]
        return []

    def stop_node(self, node: str, timeout: float = 60) -> None:
        pid = self._pid(node)
        if pid is None:
            return
        self._close_cql(node)
        self.progress.step(f"stopping {node}")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            _reap(pid)
            time.sleep(0.3)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                _reap(pid)
                time.sleep(0.1)
        self.spec(node).pid_file.unlink(missing_ok=True)
        self.progress.done(f"{node} stopped")

    def kill_node(self, node: str) -> None:
        """Simulate a crash (used by the robustness tests): SIGKILL, no drain."""
        pid = self._pid(node)
        if pid is not None:
            self._close_cql(node)
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                _reap(pid)
                time.sleep(0.1)

    def down(self, purge: bool = False) -> None:
        for node in reversed(self.node_names()):
            self.stop_node(node)
        if purge and self.root.exists():
            shutil.rmtree(self.root)
            self.progress.done(f"removed {self.root}")

    def status(self) -> list[NodeStatus]:
        states = self._ring_states()
        out = []
        for node, spec in self.specs.items():
            pid = self._pid(node)
            state = states.get(spec.address, "UN") if pid else "DN"
            out.append(NodeStatus(name=node, address=spec.address, state=state,
                                  version=self.cassandra_version(), data_dir=str(spec.data_dir),
                                  pid=pid))
        return out

    def _ring_states(self) -> dict[str, str]:
        """Ask any running node for `nodetool status`: the ring's own view of each address."""
        from dselab.nodetool_output import parse_status

        for node in self.specs:
            if self.is_running(node):
                res = self.nodetool(node, ["status"], timeout=60)
                if res.ok:
                    return {row.address: row.state for row in parse_status(res.stdout)}
        return {}

    # -- commands -----------------------------------------------------------------------------

    def require_running(self, node: str) -> NodeSpec:
        spec = self.spec(node)
        if not self.is_running(node):
            if not any(self.is_running(n) for n in self.specs):
                raise ClusterDown(
                    f"the {self.cluster} cluster is down (no node is running)",
                    fix="start it with `./scripts/up-cluster.sh` or `dselab up`",
                )
            raise ClusterDown(f"{node} is not running",
                              fix=f"start it with `dselab node start {node}`")
        return spec

    def _java_tool(self, spec: NodeSpec, main: str, args: Sequence[str],
                   timeout: float, cwd: Path | None = None) -> CommandResult:
        argv = [preflight.java_binary(), *tool_jvm_args(spec.conf_dir), "-cp",
                f"{spec.conf_dir}:{self.dist.classpath}", main, *args]
        shown = (main.rsplit(".", 1)[-1].lower(), *args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, cwd=cwd)
        except subprocess.TimeoutExpired:
            raise NodeTimeout(spec.name, timeout, f"`{' '.join(shown)}`",
                              "\n".join(self._tail(spec, 5))) from None
        return CommandResult(shown, proc.returncode, proc.stdout, proc.stderr)

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 600) -> CommandResult:
        spec = self.require_running(node)
        res = self._java_tool(spec, "org.apache.cassandra.tools.NodeTool",
                              ["-h", "127.0.0.1", "-p", str(spec.jmx_port), *args], timeout)
        shown = ("nodetool", *args)
        return CommandResult(shown, res.returncode, res.stdout, res.stderr)

    def tool(self, node: str, tool: str, args: Sequence[str], timeout: float = 600) -> CommandResult:
        """Offline tools run next to a node; only sstableloader is needed by the labs."""
        mains = {"sstableloader": "org.apache.cassandra.tools.BulkLoader"}
        if tool not in mains:
            raise UsageError(f"unknown tool {tool!r}; known: {', '.join(mains)}")
        spec = self.require_running(node)
        res = self._java_tool(spec, mains[tool], args, timeout, cwd=spec.data_dir)
        return CommandResult((tool, *args), res.returncode, res.stdout, res.stderr)

    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None) -> CommandResult:
        """Run a command "on" the node: here, in its data directory on this machine."""
        spec = self.spec(node)
        cwd = self._inside(node, workdir) if workdir else spec.data_dir
        try:
            proc = subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd,
                                  stdin=subprocess.DEVNULL, timeout=600)
        except FileNotFoundError:
            raise UsageError(f"no such command: {argv[0]}") from None
        return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)

    def cqlsh_argv(self, node: str, args: Sequence[str]) -> list[str]:
        spec = self.require_running(node)
        cqlsh = shutil.which("cqlsh")
        if not cqlsh:
            raise EnvironmentProblem("cqlsh is not installed", fix="run `make setup` (pip installs cqlsh)")
        return [cqlsh, spec.address, str(NATIVE_PORT), *args]

    def _session(self, node: str) -> Any:
        if node not in self._cql_sessions:
            from dselab.cql import connect

            spec = self.require_running(node)
            self._cql_sessions[node] = connect(spec.address, NATIVE_PORT)
        return self._cql_sessions[node]

    def _close_cql(self, node: str) -> None:
        session = self._cql_sessions.pop(node, None)
        if session is not None:
            session.cluster.shutdown()

    def close(self) -> None:
        for node in list(self._cql_sessions):
            self._close_cql(node)

    def cql(self, statement: str, params: Sequence[Any] | None = None,
            node: str | None = None, consistency: str | None = None) -> list[dict[str, Any]]:
        from dselab.cql import execute

        node = node or self.node_names()[0]
        return execute(self._session(node), statement, params, where=node, consistency=consistency)

    def cql_many(self, statement: str, rows: Sequence[Sequence[Any]], node: str | None = None) -> int:
        from dselab.cql import execute_many

        node = node or self.node_names()[0]
        return execute_many(self._session(node), statement, rows, where=node)

    # -- files and logs -----------------------------------------------------------------------

    def data_dir(self, node: str) -> str:
        return str(self.spec(node).data_dir)

    def _inside(self, node: str, relative: str) -> Path:
        base = self.spec(node).data_dir.resolve()
        path = (base / relative).resolve()
        if path != base and base not in path.parents:
            raise UsageError(f"path {relative!r} leaves the data directory of {node}")
        return path

    def list_files(self, node: str, relative: str = "") -> list[FileEntry]:
        base = self.spec(node).data_dir
        top = self._inside(node, relative)
        out: list[FileEntry] = []
        for dirpath, _dirs, files in os.walk(top):
            for name in files:
                full = Path(dirpath) / name
                try:
                    st = full.stat()
                except FileNotFoundError:  # compaction may remove files while we walk
                    continue
                out.append(FileEntry(str(full.relative_to(base)), st.st_size, st.st_mtime,
                                     st.st_ino, st.st_nlink))
        return out

    def read_text(self, node: str, relative: str) -> str:
        return self._inside(node, relative).read_text()

    def copy_files(self, node: str, sources: Sequence[str], dest_dir: str) -> None:
        dest = self._inside(node, dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        for src in sources:
            shutil.copy2(self._inside(node, src), dest / Path(src).name)

    def remove_files(self, node: str, relatives: Sequence[str]) -> None:
        for rel in relatives:
            self._inside(node, rel).unlink(missing_ok=True)

    def _log_path(self, node: str, debug: bool) -> Path:
        return self.spec(node).log_dir / ("debug.log" if debug else "system.log")

    def log_mark(self, node: str) -> int:
        path = self._log_path(node, debug=True)
        return path.stat().st_size if path.exists() else 0

    def log_since(self, node: str, mark: int, debug: bool = True) -> str:
        path = self._log_path(node, debug)
        if not path.exists():
            return ""
        if path.stat().st_size < mark:  # log was replaced (purged cluster): read all of it
            mark = 0
        return self._read_from(path, mark)

    def log_tail(self, node: str, lines: int = 40) -> list[str]:
        return self._tail(self.spec(node), lines)


def _alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True
