"""The Docker runtime: DSE 5.1 containers from docker-compose.yml, for students who have Docker.

Containers are found by their compose labels (project + service) through the Docker SDK;
`docker compose` itself only creates, starts, stops and removes them. Every path handed across
the Runtime boundary is a path inside the node's container. Commands run with `exec`, wrapped
in coreutils `timeout` because the SDK's exec has no time limit of its own.
"""

from __future__ import annotations

import calendar
import math
import os
import posixpath
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dselab import paths
from dselab.cql import connect
from dselab.errors import ClusterDown, EnvironmentProblem, NodeTimeout, UsageError
from dselab.progress import Progress, Silent
from dselab.runtime.base import LAB_NODES, CommandResult, FileEntry, NodeStatus

try:
    import docker
    import docker.errors
except ImportError:  # the local runtime must keep working without the SDK
    docker = None  # type: ignore[assignment]

PROJECT = os.environ.get("DSELAB_COMPOSE_PROJECT", "dselab")
RESTORE_NODE = "dse-restore"
RESTORE_PROFILE = "restore"
DATA_DIR = "/var/lib/cassandra/data"
LOG_DIR = "/var/log/cassandra"
# Published CQL ports (docker-compose.yml); other nodes have none on this machine.
CQL_PORTS = {"dse-seed": 9042, RESTORE_NODE: 9043}
CQL_HOST = "127.0.0.1"
# DSE 5.1 is Cassandra 3.11: protocol v5 is only a beta there, so the driver must ask for v4.
CQL_PROTOCOL = 4
# Where the DSE image keeps nodetool, cqlsh and sstableloader (tarball layout under /opt/dse).
TOOL_PATH = ":".join([
    "/opt/dse/bin", "/opt/dse/resources/cassandra/bin", "/opt/dse/resources/cassandra/tools/bin",
    "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
])
READY_LINE = "Starting listening for CQL clients"
START_TIMEOUT_S = float(os.environ.get("DSELAB_START_TIMEOUT", "300"))
COMPOSE_TIMEOUT_S = 1800  # the first `up` pulls a large image
STOP_GRACE_S = 120
FALLBACK_VERSION = "3.11"  # DSE 5.1's Cassandra line, when no node can be asked
NO_ENGINE = "no Docker engine answers"
NO_ENGINE_FIX = ("start Docker (Docker Desktop, or `sudo systemctl start docker`), "
                 "or use the default local runtime: unset DSELAB_RUNTIME")


# -- the engine -------------------------------------------------------------------------------

def docker_available() -> bool:
    """True only when a Docker engine answers a ping now (a few seconds at most)."""
    if docker is None:
        return False
    try:
        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure means "no engine" to the caller
        return False


def connect_engine() -> Any:
    """A Docker SDK client, or EnvironmentProblem with the fix on one line."""
    if docker is None:
        raise EnvironmentProblem("the docker Python package is not installed",
                                 fix="run `pip install docker`")
    if not docker_available():
        raise EnvironmentProblem(NO_ENGINE, fix=NO_ENGINE_FIX)
    try:
        return docker.from_env(timeout=120)
    except Exception:
        raise EnvironmentProblem(NO_ENGINE, fix=NO_ENGINE_FIX) from None


@contextmanager
def _engine_errors(node: str) -> Iterator[None]:
    """Turn SDK and connection errors into the errors a user can act on."""
    if docker is None:
        yield
        return
    try:
        yield
    except docker.errors.NotFound:
        raise ClusterDown(f"{node} has no container", fix="start it with `dselab up`") from None
    except docker.errors.APIError as err:
        if "is not running" in str(err) or "is restarting" in str(err):
            raise ClusterDown(f"{node} is not running",
                              fix=f"start it with `dselab node start {node}`") from None
        raise EnvironmentProblem(f"Docker refused a request for {node}: {err.explanation or err}") from None
    except docker.errors.DockerException:
        raise EnvironmentProblem(NO_ENGINE, fix=NO_ENGINE_FIX) from None
    except OSError:  # requests' ConnectionError is an OSError: the engine went away
        raise EnvironmentProblem(NO_ENGINE, fix=NO_ENGINE_FIX) from None


def compose_file() -> Path:
    return Path(os.environ.get("DSELAB_COMPOSE_FILE", paths.REPO_ROOT / "docker-compose.yml"))


def compose_command() -> list[str]:
    """`docker compose` (the plugin) when it answers, else the old standalone `docker-compose`."""
    docker_bin = shutil.which("docker")
    if docker_bin:
        probe = subprocess.run([docker_bin, "compose", "version"], capture_output=True,
                               text=True, stdin=subprocess.DEVNULL)
        if probe.returncode == 0:
            return [docker_bin, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    raise EnvironmentProblem("Docker Compose is not installed",
                             fix="install the Docker Compose plugin (it comes with Docker Desktop)")


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def _decode(data: bytes | None) -> str:
    return data.decode("utf-8", "replace") if data else ""


def parse_find(stdout: str, relative: str = "") -> list[FileEntry]:
    """Lines of `find -printf '%P\\t%s\\t%T@\\t%i\\t%n\\n'`, as paths relative to the data dir."""
    out = []
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        rel, size, mtime, inode, links = fields
        path = posixpath.join(relative, rel) if rel else relative
        try:
            out.append(FileEntry(path, int(size), float(mtime), int(inode), int(links)))
        except ValueError:
            continue
    return out


def _only_missing(stderr: str) -> bool:
    """find/stat/cat complain only about vanished files (compaction, a missing folder)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return all("No such file or directory" in ln for ln in lines)


# -- the runtime ------------------------------------------------------------------------------

class ComposeRuntime:
    """One compose-managed cluster: "lab" (three DSE nodes) or "restore" (dse-restore alone)."""

    def __init__(self, cluster: str = "lab", progress: Progress | None = None,
                 client: Any = None, project: str | None = None,
                 compose_path: str | Path | None = None) -> None:
        if cluster not in ("lab", "restore"):
            raise UsageError(f"unknown cluster {cluster!r}; the clusters are: lab, restore")
        self.name = "docker"
        self.cluster = cluster
        self.progress = progress or Silent()
        self.project = project or PROJECT
        self.compose_path = Path(compose_path) if compose_path else compose_file()
        self._client = client
        self._owns_client = client is None
        self._version: str | None = None
        self._cql_sessions: dict[str, Any] = {}

    # -- identity -----------------------------------------------------------------------------

    def node_names(self) -> list[str]:
        return list(LAB_NODES) if self.cluster == "lab" else [RESTORE_NODE]

    def _check_node(self, node: str) -> str:
        if node not in self.node_names():
            raise UsageError(f"unknown node {node!r}; the nodes are: {', '.join(self.node_names())}")
        return node

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect_engine()
        return self._client

    def container(self, node: str) -> Any | None:
        """The node's container in any state, found by its compose labels; None if never created."""
        self._check_node(node)
        labels = [f"com.docker.compose.project={self.project}",
                  f"com.docker.compose.service={node}"]
        with _engine_errors(node):
            found = self.client.containers.list(all=True, filters={"label": labels})
        return found[0] if found else None

    def exists(self) -> bool:
        return all(self.container(n) is not None for n in self.node_names())

    def is_running(self, node: str) -> bool:
        container = self.container(node)
        return container is not None and container.status == "running"

    def address(self, node: str) -> str:
        """The container's IP on the compose network (what nodetool status shows), or ''."""
        container = self.container(node)
        if container is None:
            return ""
        networks = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        return next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")

    def cassandra_version(self) -> str:
        if self._version is None:
            for node in self.node_names():
                if self.is_running(node):
                    res = self.nodetool(node, ["version"], timeout=60)
                    if res.ok and "ReleaseVersion:" in res.stdout:
                        self._version = res.stdout.split("ReleaseVersion:", 1)[1].split()[0]
                        break
        return self._version or FALLBACK_VERSION

    # -- compose: create, start, stop, remove -------------------------------------------------

    def _compose(self, args: Sequence[str], what: str) -> None:
        if not self.compose_path.exists():
            raise EnvironmentProblem(f"compose file {self.compose_path} does not exist",
                                     fix="run dselab from the repository, or set DSELAB_COMPOSE_FILE")
        argv = [*compose_command(), "-p", self.project, "-f", str(self.compose_path)]
        if self.cluster == "restore":
            argv += ["--profile", RESTORE_PROFILE]
        argv += list(args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_S,
                                  stdin=subprocess.DEVNULL, cwd=self.compose_path.parent)
        except subprocess.TimeoutExpired:
            raise EnvironmentProblem(f"`docker compose` did not finish {what} within "
                                     f"{COMPOSE_TIMEOUT_S}s") from None
        if proc.returncode != 0:
            raise EnvironmentProblem(f"`docker compose` failed {what}: {_one_line(proc.stderr)}",
                                     fix="see `docker compose logs` in the repository")

    def up(self) -> None:
        """Start every node that is not running, in order (the seed first). Idempotent."""
        self.up_nodes(self.node_names())

    def up_nodes(self, nodes: Sequence[str]) -> None:
        for node in nodes:  # all names first: fail before anything starts
            self._check_node(node)
        for node in nodes:
            self.start_node(node)

    def start_node(self, node: str) -> None:
        """One node at a time: Cassandra refuses two nodes joining the ring at once."""
        if self.is_running(node):
            return
        self.progress.step(f"starting {node} (docker compose)")
        # --no-deps: dselab orders the starts itself and waits on the log, not on health.
        self._compose(["up", "-d", "--no-deps", node], f"starting {node}")
        self._wait_ready(node)
        self.progress.done(f"{node} is up ({self.address(node) or 'container'})")

    def _wait_ready(self, node: str) -> None:
        started = time.monotonic()
        while True:
            container = self.container(node)
            if container is None or container.status in ("exited", "dead"):
                raise EnvironmentProblem(
                    f"{node} stopped while starting; last log lines: {' | '.join(self._tail(node, 3))}",
                    fix=f"see `docker compose logs {node}`",
                )
            if READY_LINE in self._logs_since_start(node, container):
                return
            waited = time.monotonic() - started
            if waited > START_TIMEOUT_S:
                raise NodeTimeout(node, waited, "CQL listening", "\n".join(self._tail(node, 5)))
            self.progress.step(f"waiting for {node} to listen for CQL ({waited:.0f}s)")
            time.sleep(2)

    def _logs_since_start(self, node: str, container: Any) -> str:
        """Container output of this run only: since the engine's own StartedAt (no clock skew)."""
        state = container.attrs.get("State")
        if not isinstance(state, dict):  # a listed container carries only the state's name
            with _engine_errors(node):
                container.reload()
            state = container.attrs.get("State")
        started_at = state.get("StartedAt", "") if isinstance(state, dict) else ""
        since = None
        if len(started_at) >= 19:
            since = calendar.timegm(time.strptime(started_at[:19], "%Y-%m-%dT%H:%M:%S"))
        with _engine_errors(node):
            return _decode(container.logs(since=since) if since else container.logs())

    def _tail(self, node: str, lines: int) -> list[str]:
        container = self.container(node)
        if container is None:
            return []
        try:
            text = _decode(container.logs(tail=lines * 4))
        except Exception:  # only for error messages: never hide the real problem
            return []
        return [ln for ln in text.splitlines() if ln.strip()][-lines:]

    def log_tail(self, node: str, lines: int = 40) -> list[str]:
        return self._tail(self._check_node(node), lines)

    def stop_node(self, node: str) -> None:
        if not self.is_running(node):
            return
        self._close_cql(node)
        self.progress.step(f"stopping {node}")
        self._compose(["stop", "-t", str(STOP_GRACE_S), node], f"stopping {node}")
        self.progress.done(f"{node} stopped")

    def down(self, purge: bool = False) -> None:
        """Stop the nodes; with purge also remove their containers and their data volumes."""
        for node in reversed(self.node_names()):
            self.stop_node(node)
        if purge:
            self._purge()

    def _purge(self) -> None:
        volumes = []
        for node in self.node_names():
            container = self.container(node)
            if container is not None:
                volumes += [m["Name"] for m in container.attrs.get("Mounts", [])
                            if m.get("Type") == "volume" and m.get("Name")]
        self._compose(["rm", "-s", "-f", "-v", *self.node_names()], "removing containers")
        for name in volumes:
            self._remove_volume(name)
        self.progress.done(f"removed the {self.cluster} containers and their volumes")

    def _remove_volume(self, name: str) -> None:
        try:
            with _engine_errors(name):
                self.client.volumes.get(name).remove(force=True)
        except ClusterDown:  # what _engine_errors makes of NotFound: already gone
            pass

    def status(self) -> list[NodeStatus]:
        states = self._ring_states()
        out = []
        for node in self.node_names():
            container = self.container(node)
            running = container is not None and container.status == "running"
            address = self.address(node)
            state = states.get(address, "UN") if running else "DN"
            out.append(NodeStatus(
                name=node, address=address or node, state=state, version=self.cassandra_version(),
                data_dir=DATA_DIR, pid=None,
                extra={"container": container.name if container else None,
                       "container_status": container.status if container else "absent"},
            ))
        return out

    def _ring_states(self) -> dict[str, str]:
        from dselab.nodetool_output import parse_status

        for node in self.node_names():
            if self.is_running(node):
                res = self.nodetool(node, ["status"], timeout=60)
                if res.ok:
                    return {row.address: row.state for row in parse_status(res.stdout)}
        return {}

    # -- commands -----------------------------------------------------------------------------

    def require_running(self, node: str) -> Any:
        container = self.container(node)
        if container is not None and container.status == "running":
            return container
        if not any(self.is_running(n) for n in self.node_names()):
            raise ClusterDown(f"the {self.cluster} cluster is down (no node is running)",
                              fix="start it with `dselab up`")
        raise ClusterDown(f"{node} is not running", fix=f"start it with `dselab node start {node}`")

    def _run(self, node: str, argv: Sequence[str], timeout: float,
             workdir: str | None = None) -> tuple[int, str, str]:
        """Run argv in the node's container: (exit code, stdout, stderr)."""
        container = self.require_running(node)
        limit = str(max(1, math.ceil(timeout)))
        wrapped = ["timeout", "-k", "10", limit, *argv]
        began = time.monotonic()
        with _engine_errors(node):
            res = container.exec_run(wrapped, workdir=workdir, demux=True,
                                     environment={"PATH": TOOL_PATH})
        stdout, stderr = res.output if res.output else (None, None)
        # 137 alone could be an OOM kill; it means "timed out" only once the limit has passed.
        if res.exit_code == 124 or (res.exit_code == 137 and time.monotonic() - began >= timeout):
            raise NodeTimeout(node, timeout, f"`{' '.join(argv)}`", "\n".join(self._tail(node, 5)))
        return int(res.exit_code or 0), _decode(stdout), _decode(stderr)

    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None,
             timeout: float = 600) -> CommandResult:
        """Run argv inside the node's container, in the data dir unless told otherwise."""
        rc, out, err = self._run(node, argv, timeout, workdir or DATA_DIR)
        return CommandResult(tuple(argv), rc, out, err)

    def exec_argv(self, node: str, argv: Sequence[str]) -> list[str]:
        """The `docker exec` command line a user can run to do the same thing by hand."""
        container = self.require_running(node)
        tty = ["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else []
        return ["docker", "exec", "-i", *tty, "-w", DATA_DIR, container.name, *argv]

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 600) -> CommandResult:
        rc, out, err = self._run(node, ["nodetool", *args], timeout)
        return CommandResult(("nodetool", *args), rc, out, err)

    def tool(self, node: str, tool: str, args: Sequence[str], timeout: float = 600) -> CommandResult:
        """Tools run inside the node's container; only sstableloader is needed by the labs."""
        known = ("sstableloader",)
        if tool not in known:
            raise UsageError(f"unknown tool {tool!r}; known: {', '.join(known)}")
        rc, out, err = self._run(node, [tool, *args], timeout, DATA_DIR)
        return CommandResult((tool, *args), rc, out, err)

    def cqlsh_argv(self, node: str, args: Sequence[str]) -> list[str]:
        return self.exec_argv(node, ["cqlsh", *args])

    # -- CQL ----------------------------------------------------------------------------------

    def _cql_node(self, node: str | None) -> str:
        node = self._check_node(node or self.node_names()[0])
        if node not in CQL_PORTS:
            via = self.node_names()[0]
            raise UsageError(
                f"in the docker runtime CQL goes through {via} ({CQL_HOST}:{CQL_PORTS[via]}); "
                f"{node} has no published CQL port",
                fix=f"leave the node unset, or run `docker compose exec {node} cqlsh`",
            )
        return node

    def _session(self, node: str) -> Any:
        if node not in self._cql_sessions:
            self.require_running(node)
            self._cql_sessions[node] = connect(CQL_HOST, CQL_PORTS[node], protocol_version=CQL_PROTOCOL)
        return self._cql_sessions[node]

    def _close_cql(self, node: str) -> None:
        session = self._cql_sessions.pop(node, None)
        if session is not None:
            session.cluster.shutdown()

    def close(self) -> None:
        for node in list(self._cql_sessions):
            self._close_cql(node)
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def cql(self, statement: str, params: Sequence[Any] | None = None,
            node: str | None = None, consistency: str | None = None) -> list[dict[str, Any]]:
        from dselab.cql import execute

        node = self._cql_node(node)
        return execute(self._session(node), statement, params, where=node, consistency=consistency)

    def cql_many(self, statement: str, rows: Sequence[Sequence[Any]], node: str | None = None) -> int:
        from dselab.cql import execute_many

        node = self._cql_node(node)
        return execute_many(self._session(node), statement, rows, where=node)

    # -- files and logs (paths inside the container) ------------------------------------------

    def data_dir(self, node: str) -> str:
        self._check_node(node)
        return DATA_DIR

    def _inside(self, node: str, relative: str) -> str:
        self._check_node(node)
        path = posixpath.normpath(posixpath.join(DATA_DIR, relative))
        if path != DATA_DIR and not path.startswith(DATA_DIR + "/"):
            raise UsageError(f"path {relative!r} leaves the data directory of {node}")
        return path

    def list_files(self, node: str, relative: str = "") -> list[FileEntry]:
        top = self._inside(node, relative)
        rel = posixpath.relpath(top, DATA_DIR)
        rel = "" if rel == "." else rel
        rc, out, err = self._run(
            node, ["find", top, "-type", "f", "-printf", "%P\t%s\t%T@\t%i\t%n\n"], timeout=120)
        if rc != 0 and not _only_missing(err):
            raise EnvironmentProblem(f"listing {top} on {node} failed: {_one_line(err)}")
        return parse_find(out, rel)

    def read_text(self, node: str, relative: str) -> str:
        path = self._inside(node, relative)
        rc, out, err = self._run(node, ["cat", path], timeout=60)
        if rc != 0:
            if _only_missing(err):
                raise FileNotFoundError(f"{node}:{path}")
            raise EnvironmentProblem(f"reading {path} on {node} failed: {_one_line(err)}")
        return out

    def copy_files(self, node: str, sources: Sequence[str], dest_dir: str) -> None:
        dest = self._inside(node, dest_dir)
        srcs = [self._inside(node, s) for s in sources]
        self._checked(node, ["mkdir", "-p", dest], f"creating {dest}")
        if srcs:
            # -p keeps timestamps, as shutil.copy2 does in the local runtime.
            self._checked(node, ["cp", "-p", "--", *srcs, dest + "/"], f"copying into {dest}")

    def remove_files(self, node: str, relatives: Sequence[str]) -> None:
        paths_ = [self._inside(node, r) for r in relatives]
        if paths_:
            self._checked(node, ["rm", "-f", "--", *paths_], "removing files")

    def _checked(self, node: str, argv: list[str], what: str) -> None:
        rc, _out, err = self._run(node, argv, timeout=600)
        if rc != 0:
            raise EnvironmentProblem(f"{what} on {node} failed: {_one_line(err)}")

    def _log_file(self, node: str, debug: bool) -> str:
        self._check_node(node)
        return f"{LOG_DIR}/{'debug.log' if debug else 'system.log'}"

    def _log_size(self, node: str, path: str) -> int:
        rc, out, _err = self._run(node, ["stat", "-c", "%s", path], timeout=30)
        return int(out.strip()) if rc == 0 and out.strip().isdigit() else 0

    def log_mark(self, node: str) -> int:
        return self._log_size(node, self._log_file(node, debug=True))

    def log_since(self, node: str, mark: int, debug: bool = True) -> str:
        path = self._log_file(node, debug)
        size = self._log_size(node, path)
        if size == 0:
            return ""
        if size < mark:  # the log was replaced (purged cluster): read all of it
            mark = 0
        # tail counts bytes from 1: +N starts at offset N-1.
        _rc, out, _err = self._run(node, ["tail", "-c", f"+{mark + 1}", path], timeout=120)
        return out

