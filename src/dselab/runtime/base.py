"""The one protocol every runtime meets, so checks and solutions never care which one runs.

Paths handed across this boundary are the node's own paths (inside the container for Docker,
on this machine for local processes); `data_dir(node)` is where the keyspace folders live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from dselab.progress import Progress

LAB_NODES: tuple[str, ...] = ("dse-seed", "dse-node-1", "dse-node-2")
SEED = LAB_NODES[0]
RESTORE_NODE = "dse-restore"
# The two clusters a runtime can stand for: the lab's three nodes, and the one-node cluster that
# sstableloader restores into.
CLUSTER_NODES: dict[str, tuple[str, ...]] = {"lab": LAB_NODES, "restore": (RESTORE_NODE,)}

# How long one command on a node (nodetool, a tool, exec) may run before it is a NodeTimeout.
# Long enough for a repair or a full sstableloader run on the lab's data set.
COMMAND_TIMEOUT_S: float = 600


@dataclass(frozen=True)
class CommandResult:
    """What a command on a node printed, and how it ended."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def evidence(self) -> dict[str, Any]:
        return {
            "command": " ".join(self.argv),
            "exit": self.returncode,
            "stdout": self.stdout[-4000:],
            "stderr": self.stderr[-2000:],
        }


@dataclass(frozen=True)
class FileEntry:
    """A file under a node's data directory (path relative to `data_dir`)."""

    path: str
    size: int
    mtime: float
    inode: int = 0
    links: int = 1


@dataclass(frozen=True)
class NodeStatus:
    name: str
    address: str
    state: str  # "UN", "DN", ... as nodetool status would say; "DN" when the process is gone
    version: str
    data_dir: str
    pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Runtime(Protocol):
    """A running (or stoppable) lab cluster.

    Log marks are byte offsets into the node's debug log (it holds every system log line and the
    DEBUG ones), so `log_since` reads the debug log unless told otherwise; a mark larger than
    the log means the log was replaced, and the whole log is read. A runtime may cap what it reads
    (the local one keeps the last 8 MiB after a mark, with a note). Commands that overrun their
    timeout raise NodeTimeout naming the node; its log tail rides on the error, not in its message.
    """

    name: str
    cluster: str  # "lab" or "restore"

    def node_names(self) -> Sequence[str]: ...
    # The other cluster ("lab" or "restore") under the same settings (home, addresses, engine).
    def for_cluster(self, cluster: str, progress: Progress | None = None) -> Runtime: ...
    def exists(self) -> bool: ...  # every node was created once (it may be stopped)
    def up(self) -> None: ...
    def up_nodes(self, nodes: Sequence[str]) -> None: ...
    def down(self, purge: bool = False) -> None: ...
    def close(self) -> None: ...  # CQL sessions and engine connections; the nodes keep running
    def status(self) -> list[NodeStatus]: ...
    def is_running(self, node: str) -> bool: ...
    def address(self, node: str) -> str: ...  # as `nodetool status` shows it; '' when unknown
    def start_node(self, node: str) -> None: ...
    def stop_node(self, node: str) -> None: ...
    def kill_node(self, node: str) -> None: ...  # a crash: no drain, no grace
    def cassandra_version(self) -> str: ...

    def nodetool(self, node: str, args: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> CommandResult: ...
    # nodetool as the student's scripts run it: `client` "3.11" (the DSE 5.1 generation's) or "native".
    def student_nodetool(self, node: str, args: Sequence[str], client: str,
                         timeout: float = COMMAND_TIMEOUT_S) -> CommandResult: ...
    def prepare_student_nodetool(self, client: str) -> None: ...  # fetch it now (at `dselab start`)
    def cql(self, statement: str, params: Sequence[Any] | None = None, node: str | None = None,
            consistency: str | None = None) -> list[dict[str, Any]]: ...
    def cql_many(self, statement: str, rows: Sequence[Sequence[Any]], node: str | None = None) -> int: ...
    def cqlsh_argv(self, node: str, args: Sequence[str]) -> list[str]: ...
    def tool(self, node: str, tool: str, args: Sequence[str],
             timeout: float = COMMAND_TIMEOUT_S) -> CommandResult: ...
    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None,
             timeout: float = COMMAND_TIMEOUT_S) -> CommandResult: ...

    def data_dir(self, node: str) -> str: ...
    def list_files(self, node: str, relative: str = "") -> list[FileEntry]: ...
    def read_text(self, node: str, relative: str) -> str: ...
    # At most `limit` bytes of a regular file (SSTable components are binary); never blocks on a FIFO.
    def read_bytes(self, node: str, relative: str, limit: int) -> bytes: ...
    def copy_files(self, node: str, sources: Sequence[str], dest_dir: str) -> None: ...
    def remove_files(self, node: str, relatives: Sequence[str]) -> None: ...

    def log_mark(self, node: str, debug: bool = True) -> int: ...
    def log_since(self, node: str, mark: int, debug: bool = True) -> str: ...
    def log_tail(self, node: str, lines: int = 40) -> list[str]: ...  # the system log's last lines
