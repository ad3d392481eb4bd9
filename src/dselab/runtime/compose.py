"""The Docker runtime: DSE 5.1 containers from docker-compose.yml, for students who have Docker.

Containers are found by their compose labels (project + service) through the Docker SDK;
`docker compose` itself only creates, starts, stops and removes them. Every path handed across
the Runtime boundary is a path inside the node's container. Commands run with `exec`, wrapped
in coreutils `timeout` because the SDK's exec has no time limit of its own.
"""

from __future__ import annotations

import base64
import calendar
import math
import posixpath
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dselab import resources
from dselab.command_failure import reason_line
from dselab.cql import connect
from dselab.errors import ClusterDown, EnvironmentProblem, UsageError
from dselab.progress import Progress
from dselab.runtime.base import COMMAND_TIMEOUT_S, RESTORE_NODE, CommandResult, FileEntry, NodeStatus
from dselab.runtime.common import STOP_GRACE_S, CommonRuntime, last_lines
from dselab.settings import COMPOSE_FILE, DOCKER_PULL, RUNTIME, Settings, resolve

try:
    import docker
    import docker.errors
except ImportError:  # the local runtime must keep working without the SDK
    docker = None  # type: ignore[assignment]

RESTORE_PROFILE = "restore"
DATA_DIR = "/var/lib/cassandra/data"
LOG_DIR = "/var/log/cassandra"
# Published CQL ports (docker-compose.yml); other nodes have none on this machine.
CQL_PORTS = {"dse-seed": 9042, RESTORE_NODE: 9043}
CQL_HOST = "127.0.0.1"
NATIVE_PORT = 9042  # a node's own CQL port, reached directly when it runs on the host's network
# DSE 5.1 is Cassandra 3.11: protocol v5 is only a beta there, so the driver must ask for v4.
CQL_PROTOCOL = 4
# Where the DSE image keeps nodetool, cqlsh and sstableloader (tarball layout under /opt/dse).
TOOL_PATH = ":".join([
    "/opt/dse/bin", "/opt/dse/resources/cassandra/bin", "/opt/dse/resources/cassandra/tools/bin",
    "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
])
COMPOSE_TIMEOUT_S = 1800  # the first `up` pulls a large image
FALLBACK_VERSION = "3.11"  # DSE 5.1's Cassandra line, when no node can be asked
NO_ENGINE = "no Docker engine answers"
NO_ENGINE_FIX = ("start Docker (Docker Desktop, or `sudo systemctl start docker`), "
                 f"or use the default local runtime: unset {RUNTIME}")


# -- the engine -------------------------------------------------------------------------------

def docker_available() -> bool:
    """True only when a Docker engine answers a ping now (a few seconds at most)."""
    if docker is None:
        return False
    try:
        client = docker.from_env(timeout=3)  # type: ignore[attr-defined]  # the SDK has no type information
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
        return docker.from_env(timeout=120)  # type: ignore[attr-defined]
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


def compose_files(settings: Settings | None = None) -> list[Path]:
    """The compose files, in order: DSELAB_COMPOSE_FILES (a path list) or DSELAB_COMPOSE_FILE, else
    docker-compose.yml with the docker-compose.override.yml beside it (what `docker compose` reads)."""
    settings = resolve(settings)
    if settings.compose_files:
        return list(settings.compose_files)
    base = resources.compose_file(settings)  # DSELAB_COMPOSE_FILE, else the packaged docker-compose.yml
    override = base.with_name("docker-compose.override.yml")
    return [base, override] if override.exists() else [base]


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


def _on_host_network(container: Any) -> bool:  # noqa: ANN401
    return bool(container.attrs.get("HostConfig", {}).get("NetworkMode") == "host")


def _container_env(container: Any) -> dict[str, str]:
    pairs = container.attrs.get("Config", {}).get("Env") or []
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def _one_line(text: str) -> str:
    return reason_line(text)


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

class ComposeRuntime(CommonRuntime):
    """One compose-managed cluster: "lab" (three DSE nodes) or "restore" (dse-restore alone)."""

    def __init__(self, cluster: str = "lab", progress: Progress | None = None,
                 client: Any = None, project: str | None = None,
                 compose_paths: Sequence[str | Path] | None = None, config: Settings | None = None) -> None:
        super().__init__(cluster, progress, config)
        self.name = "docker"
        self.project = project or self.config.compose_project
        self.compose_paths = [Path(p) for p in compose_paths] if compose_paths else compose_files(self.config)
        self._client = client
        self._owns_client = client is None
        self._version: str | None = None

    # -- identity -----------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect_engine()
        return self._client

    def container(self, node: str) -> Any | None:
        """The node's container in any state, found by its compose labels; None if never created."""
        self.check_node(node)
        labels = [f"com.docker.compose.project={self.project}",
                  f"com.docker.compose.service={node}"]
        with _engine_errors(node):
            found = self.client.containers.list(all=True, filters={"label": labels})
        return found[0] if found else None

    def for_cluster(self, cluster: str, progress: Progress | None = None) -> ComposeRuntime:
        """Same engine connection (still owned by this runtime), project and compose file."""
        return ComposeRuntime(cluster, progress or self.progress, client=self._client, project=self.project,
                              compose_paths=self.compose_paths, config=self.config)

    def exists(self) -> bool:
        return all(self.container(n) is not None for n in self.node_names())

    def is_running(self, node: str) -> bool:
        container = self.container(node)
        return container is not None and container.status == "running"

    def address(self, node: str) -> str:
        """The node's address as `nodetool status` shows it, or '': the container's IP on the
        compose network, or on the host's network its LISTEN_ADDRESS."""
        container = self.container(node)
        if container is None:
            return ""
        if _on_host_network(container):
            return _container_env(container).get("LISTEN_ADDRESS", "")
        networks = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        return next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), "")

    def cql_endpoint(self, node: str) -> tuple[str, int]:
        """Where this machine reaches the node's CQL port: its own address on the host's network,
        else the port docker-compose.override.yml publishes on 127.0.0.1."""
        if self.on_host_network(node):
            return self.address(node), NATIVE_PORT
        return CQL_HOST, CQL_PORTS[node]

    def on_host_network(self, node: str) -> bool:
        container = self.container(node)
        return container is not None and _on_host_network(container)

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

    def _compose(self, args: Sequence[str], what: str) -> str:
        missing = [str(p) for p in self.compose_paths if not p.exists()]
        if missing:
            raise EnvironmentProblem(f"compose file {', '.join(missing)} does not exist",
                                     fix=f"run dselab from the repository, or set {COMPOSE_FILE}")
        argv = [*compose_command(), "-p", self.project]
        for path in self.compose_paths:
            argv += ["-f", str(path)]
        if self.cluster == "restore":
            argv += ["--profile", RESTORE_PROFILE]
        argv += list(args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_S,
                                  stdin=subprocess.DEVNULL, cwd=self.compose_paths[0].parent)
        except subprocess.TimeoutExpired:
            raise EnvironmentProblem(f"`docker compose` did not finish {what} within "
                                     f"{COMPOSE_TIMEOUT_S}s") from None
        if proc.returncode != 0:
            raise EnvironmentProblem(f"`docker compose` failed {what}: {_one_line(proc.stderr)}",
                                     fix="see `docker compose logs` in the repository")
        return proc.stdout

    def service_image(self, node: str) -> str:
        """The image compose would run for the node, with the files' ${VARIABLES} resolved."""
        import yaml

        config = yaml.safe_load(self._compose(["config"], "reading the compose files") or "") or {}
        return str(config.get("services", {}).get(node, {}).get("image", ""))

    def _require_image(self, node: str) -> None:
        """With DSELAB_DOCKER_PULL=never (CI: no registry), a missing image is named before compose
        tries to pull it."""
        if self.config.docker_pull.lower() != "never":
            return
        image = self.service_image(node)
        try:
            with _engine_errors(node):
                self.client.images.get(image)
        except ClusterDown:  # what _engine_errors makes of NotFound
            raise EnvironmentProblem(
                f"image {image} for {node} is not on this machine, and {DOCKER_PULL}=never forbids pulling it",
                fix=f"build it (`make test-docker` builds the CI stand-in) or unset {DOCKER_PULL}",
            ) from None

    def up_nodes(self, nodes: Sequence[str]) -> None:
        for node in nodes:  # all names first: fail before anything starts
            self.check_node(node)
        for node in nodes:
            self.start_node(node)

    def start_node(self, node: str) -> None:
        """One node at a time: Cassandra refuses two nodes joining the ring at once."""
        if self.is_running(node):
            return
        self._require_image(node)
        self.progress.step(f"starting {node} (docker compose)")
        # --no-deps: dselab orders the starts itself and waits on the log, not on health.
        self._compose(["up", "-d", "--no-deps", node], f"starting {node}")
        self.wait_ready(node, lambda: self._logs_since_start(node), lambda: self._ended(node),
                        fix=f"see `docker compose logs {node}`", interval=2)
        self.progress.done(f"{node} is up ({self.address(node) or 'container'})")

    def _ended(self, node: str) -> str | None:
        container = self.container(node)
        if container is None:
            return "lost its container"
        return "stopped" if container.status in ("exited", "dead") else None

    def _logs_since_start(self, node: str) -> str:
        """Container output of this run only: since the engine's own StartedAt (no clock skew)."""
        container = self.container(node)
        if container is None:
            return ""
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

    def log_tail(self, node: str, lines: int = 40) -> list[str]:
        """The container's output (the DSE image logs system.log lines to it): its last lines."""
        container = self.container(node)
        if container is None:
            return []
        with _engine_errors(node):
            return last_lines(_decode(container.logs(tail=lines * 4)), lines)

    def stop_node(self, node: str) -> None:
        if not self.is_running(node):
            return
        self.close_cql(node)
        self.progress.step(f"stopping {node}")
        self._compose(["stop", "-t", str(STOP_GRACE_S), node], f"stopping {node}")
        self.progress.done(f"{node} stopped")

    def kill_node(self, node: str) -> None:
        """Simulate a crash: SIGKILL to the container, no drain (compose's restart policy is "no")."""
        container = self.container(node)
        if container is None or container.status != "running":
            return
        self.close_cql(node)
        with _engine_errors(node):
            container.kill()

    def _purge(self) -> None:
        """Remove the containers and their data volumes."""
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

    def _node_status(self, node: str, ring: dict[str, str]) -> NodeStatus:
        container = self.container(node)
        running = container is not None and container.status == "running"
        address = self.address(node)
        return NodeStatus(
            name=node, address=address or node, state=self.ring_state(ring, address, running),
            version=self.cassandra_version(), data_dir=DATA_DIR, pid=None,
            extra={"container": container.name if container else None,
                   "container_status": container.status if container else "absent",
                   "started_at": container.attrs.get("State", {}).get("StartedAt") if running and container else None},
        )

    # -- commands -----------------------------------------------------------------------------

    def require_running(self, node: str) -> Any:
        container = self.container(node)
        if container is not None and container.status == "running":
            return container
        raise self.not_running(node)

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
            raise self.timeout_error(node, timeout, f"`{' '.join(argv)}`")
        return int(res.exit_code or 0), _decode(stdout), _decode(stderr)

    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None,
             timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        """Run argv inside the node's container, in the data dir unless told otherwise."""
        rc, out, err = self._run(node, argv, timeout, workdir or DATA_DIR)
        return CommandResult(tuple(argv), rc, out, err)

    def exec_argv(self, node: str, argv: Sequence[str]) -> list[str]:
        """The `docker exec` command line a user can run to do the same thing by hand."""
        container = self.require_running(node)
        tty = ["-t"] if sys.stdin.isatty() and sys.stdout.isatty() else []
        return ["docker", "exec", "-i", *tty, "-w", DATA_DIR, container.name, *argv]

    def nodetool(self, node: str, args: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        rc, out, err = self._run(node, ["nodetool", *args], timeout)
        return CommandResult(("nodetool", *args), rc, out, err)

    def tool(self, node: str, tool: str, args: Sequence[str],
             timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        """Tools run inside the node's container, in the data directory."""
        self.check_tool(tool)
        rc, out, err = self._run(node, [tool, *args], timeout, DATA_DIR)
        return CommandResult((tool, *args), rc, out, err)

    def cqlsh_argv(self, node: str, args: Sequence[str]) -> list[str]:
        return self.exec_argv(node, ["cqlsh", *args])

    # -- CQL ----------------------------------------------------------------------------------

    def cql_node(self, node: str | None) -> str:
        """Only nodes with a published CQL port, or on the host's network, can be reached from here."""
        node = super().cql_node(node)
        if node not in CQL_PORTS and not self.on_host_network(node):  # asks the engine only when it must
            via = self.node_names()[0]
            raise UsageError(
                f"in the docker runtime CQL goes through {via} ({CQL_HOST}:{CQL_PORTS[via]}); "
                f"{node} has no published CQL port",
                fix=f"leave the node unset, or run `docker compose exec {node} cqlsh`",
            )
        return node

    def _connect(self, node: str) -> Any:
        host, port = self.cql_endpoint(node)
        return connect(host, port, protocol_version=CQL_PROTOCOL)

    def close(self) -> None:
        super().close()
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    # -- files and logs (paths inside the container) ------------------------------------------

    def data_dir(self, node: str) -> str:
        self.check_node(node)
        return DATA_DIR

    def _inside(self, node: str, relative: str) -> str:
        self.check_node(node)
        path = posixpath.normpath(posixpath.join(DATA_DIR, relative))
        if path != DATA_DIR and not path.startswith(DATA_DIR + "/"):
            raise self.outside_data_dir(node, relative)
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

    def read_bytes(self, node: str, relative: str, limit: int) -> bytes:
        path = self._inside(node, relative)
        # base64: exec output arrives as text. A FIFO or a link is refused before head could block on it.
        script = '[ -e "$1" ] || exit 4; [ -f "$1" ] && [ ! -L "$1" ] || exit 3; head -c "$0" -- "$1" | base64'
        rc, out, err = self._run(node, ["sh", "-c", script, str(max(0, limit)), path], timeout=60)
        if rc == 4:
            raise FileNotFoundError(f"{node}:{path}")
        if rc == 3:
            raise OSError(f"{node}:{path} is not a regular file")
        if rc != 0:
            raise EnvironmentProblem(f"reading {path} on {node} failed: {_one_line(err) or f'exit {rc}'}")
        return base64.b64decode(out)

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
        rc, _out, err = self._run(node, argv, timeout=COMMAND_TIMEOUT_S)
        if rc != 0:
            raise EnvironmentProblem(f"{what} on {node} failed: {_one_line(err)}")

    def _log_file(self, node: str, debug: bool) -> str:
        return f"{LOG_DIR}/{'debug.log' if debug else 'system.log'}"

    def _log_size(self, node: str, debug: bool) -> int:
        rc, out, _err = self._run(node, ["stat", "-c", "%s", self._log_file(node, debug)], timeout=30)
        return int(out.strip()) if rc == 0 and out.strip().isdigit() else 0

    def _read_log(self, node: str, debug: bool, offset: int) -> str:
        # tail counts bytes from 1: +N starts at offset N-1.
        _rc, out, _err = self._run(node, ["tail", "-c", f"+{offset + 1}", self._log_file(node, debug)],
                                   timeout=120)
        return out
