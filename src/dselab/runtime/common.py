"""What both runtimes do the same way, written once.

Node names and the "not running" errors, CQL sessions (one per node, closed with the node), the
wait for the ready line, timeouts that name the node and carry its log tail (ccm's habit), the ring's
own view of each address from `nodetool status`, and reading a log from a mark. A runtime
subclasses `CommonRuntime` and supplies how to reach its nodes: the hooks marked below.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from dselab.errors import ClusterDown, EnvironmentProblem, NodeTimeout, UsageError
from dselab.nodetool_output import parse_status
from dselab.progress import Progress, Silent
from dselab.runtime.base import CLUSTER_NODES, COMMAND_TIMEOUT_S, CommandResult, NodeStatus
from dselab.settings import Settings, resolve

READY_LINE = "Starting listening for CQL clients"
DEFAULT_START_TIMEOUT_S = 300
STOP_GRACE_S = 120  # a node drains on SIGTERM; only after this is it killed
TOOLS = ("sstableloader",)  # the offline tools the labs need next to a node
STATUS_TIMEOUT_S = 60


def start_timeout(settings: Settings | None = None) -> float:
    """Seconds a node may take to listen for CQL (DSELAB_START_TIMEOUT, default 300)."""
    return resolve(settings).start_timeout_s


class CommonRuntime(ABC):
    """The shared half of a runtime; see LocalRuntime and ComposeRuntime for the other half."""

    name: str
    up_fix = "start it with `dselab up`"  # what ClusterDown tells a user when no node runs

    def __init__(self, cluster: str, progress: Progress | None, config: Settings | None = None) -> None:
        if cluster not in CLUSTER_NODES:
            raise UsageError(f"unknown cluster {cluster!r}; the clusters are: {', '.join(CLUSTER_NODES)}")
        self.cluster = cluster
        self.config = resolve(config)  # dselab's settings (start timeout, tools, compose project ...)
        self.progress = progress or Silent()
        self._cql_sessions: dict[str, Any] = {}
        self._cql_lock = threading.Lock()  # statements may run from threads (a check's reads at once)

    # -- hooks: how this runtime reaches a node -----------------------------------------------

    @abstractmethod
    def is_running(self, node: str) -> bool: ...

    @abstractmethod
    def stop_node(self, node: str) -> None: ...

    @abstractmethod
    def kill_node(self, node: str) -> None: ...  # a crash: no drain, no grace

    def stop_nodes(self, nodes: Sequence[str]) -> None:
        """Stop these nodes cleanly; a runtime that can stop them at once does so."""
        for node in nodes:
            self.stop_node(node)

    @abstractmethod
    def up_nodes(self, nodes: Sequence[str]) -> None: ...

    @abstractmethod
    def nodetool(self, node: str, args: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> CommandResult: ...

    def student_nodetool(self, node: str, args: Sequence[str], client: str,
                         timeout: float = COMMAND_TIMEOUT_S) -> CommandResult:
        """nodetool as the student's scripts run it, with `client` ("3.11" or "native"; see
        nodetool_choice.py). Here the node's own nodetool (a DSE 5.1 container's is 3.11's);
        the local runtime runs the 3.11 client itself."""
        return self.nodetool(node, args, timeout)

    def prepare_student_nodetool(self, client: str) -> None:
        """Fetch what `student_nodetool` with `client` needs, so a student's first call does not wait.
        Nothing here: a container's nodetool is in its image."""
        return None

    @abstractmethod
    def log_tail(self, node: str, lines: int = 40) -> list[str]: ...

    @abstractmethod
    def _purge(self) -> None:
        """Remove what `down(purge=True)` removes, once every node has stopped."""

    @abstractmethod
    def _node_status(self, node: str, ring: dict[str, str]) -> NodeStatus:
        """The node's status, given the ring's view (`ring_state` turns it into the state)."""

    @abstractmethod
    def _connect(self, node: str) -> Any:
        """A new CQL session on the node."""

    @abstractmethod
    def _log_size(self, node: str, debug: bool) -> int: ...

    @abstractmethod
    def _read_log(self, node: str, debug: bool, offset: int) -> str: ...

    # -- nodes --------------------------------------------------------------------------------

    def node_names(self) -> list[str]:
        return list(CLUSTER_NODES[self.cluster])

    def check_node(self, node: str) -> str:
        if node not in CLUSTER_NODES[self.cluster]:
            raise UsageError(f"unknown node {node!r}; the nodes are: {', '.join(self.node_names())}")
        return node

    def not_running(self, node: str) -> ClusterDown:
        """The error for a command on a node that does not run: the whole cluster, or just it."""
        if not any(self.is_running(n) for n in self.node_names()):
            return ClusterDown(f"the {self.cluster} cluster is down (no node is running)", fix=self.up_fix)
        return ClusterDown(f"{node} is not running", fix=f"start it with `dselab node start {node}`")

    def check_tool(self, tool: str) -> str:
        if tool not in TOOLS:
            raise UsageError(f"unknown tool {tool!r}; known: {', '.join(TOOLS)}")
        return tool

    def up(self) -> None:
        """Start every node that is not running, in order (the seed first). Idempotent."""
        self.up_nodes(self.node_names())

    def down(self, purge: bool = False) -> None:
        """Stop the nodes (the seed last where they stop one by one); with purge also remove their
        data. Data about to be removed needs no drain: a purge kills the nodes (seconds, where a
        clean stop of three nodes takes half a minute and more on two busy cores)."""
        running = [n for n in reversed(self.node_names()) if self.is_running(n)]
        if not purge:
            self.stop_nodes(running)
            return
        if running:
            self.progress.step(f"stopping {', '.join(running)} (their data goes: no drain)")
        for node in running:
            self.kill_node(node)
        self._purge()

    def status(self) -> list[NodeStatus]:
        ring = self.ring_states()
        return [self._node_status(node, ring) for node in self.node_names()]

    def ring_states(self) -> dict[str, str]:
        """Address -> state ("UN", "DN", ...) as the first running node's `nodetool status` says."""
        for node in self.node_names():
            if self.is_running(node):
                res = self.nodetool(node, ["status"], timeout=STATUS_TIMEOUT_S)
                if res.ok:
                    return {row.address: row.state for row in parse_status(res.stdout)}
        return {}

    @staticmethod
    def ring_state(ring: dict[str, str], address: str, running: bool) -> str:
        """A running node the ring does not list yet counts as up; a stopped one is down."""
        return ring.get(address, "UN") if running else "DN"

    # -- waiting and timeouts -----------------------------------------------------------------

    def timeout_error(self, node: str, waited: float, what: str) -> NodeTimeout:
        return NodeTimeout(node, waited, what, "\n".join(self.quiet_tail(node, 5)))

    def quiet_tail(self, node: str, lines: int) -> list[str]:
        """The log tail for an error message: never hides the real problem behind its own."""
        try:
            return self.log_tail(node, lines)
        except Exception:
            return []

    def wait_ready(self, node: str, output: Callable[[], str], gone: Callable[[], str | None],
                   fix: str, interval: float) -> None:
        """Wait until the node's output of this start has the ready line.

        `output()` is what the node has written since it was started; `gone()` says how the node
        ended ("exited with code 1") or None while it still runs.
        """
        started = time.monotonic()
        limit = self.config.start_timeout_s
        while True:
            ended = gone()
            if ended:
                raise EnvironmentProblem(
                    f"{node} {ended} while starting; last log lines: {' | '.join(self.quiet_tail(node, 3))}",
                    fix=fix)
            if READY_LINE in output():
                return
            waited = time.monotonic() - started
            if waited > limit:
                raise self.timeout_error(node, waited, "CQL listening")
            self.progress.step(f"waiting for {node} to listen for CQL ({waited:.0f}s)")
            time.sleep(interval)

    # -- CQL ----------------------------------------------------------------------------------

    def cql_node(self, node: str | None) -> str:
        """The node a CQL statement goes to: the first node unless one is named."""
        return self.check_node(node or self.node_names()[0])

    def _session(self, node: str) -> Any:
        with self._cql_lock:  # one session per node, even when two threads ask first at once
            if node not in self._cql_sessions:
                if not self.is_running(node):
                    raise self.not_running(node)
                self._cql_sessions[node] = self._connect(node)
            return self._cql_sessions[node]

    def close_cql(self, node: str) -> None:
        session = self._cql_sessions.pop(node, None)
        if session is not None:
            session.cluster.shutdown()

    def close(self) -> None:
        for node in list(self._cql_sessions):
            self.close_cql(node)

    def cql(self, statement: str, params: Sequence[Any] | None = None,
            node: str | None = None, consistency: str | None = None) -> list[dict[str, Any]]:
        from dselab.cql import execute

        node = self.cql_node(node)
        return execute(self._session(node), statement, params, where=node, consistency=consistency)

    def cql_many(self, statement: str, rows: Sequence[Sequence[Any]], node: str | None = None) -> int:
        from dselab.cql import execute_many

        node = self.cql_node(node)
        return execute_many(self._session(node), statement, rows, where=node)

    # -- files and logs -----------------------------------------------------------------------

    def outside_data_dir(self, node: str, relative: str) -> UsageError:
        return UsageError(f"path {relative!r} leaves the data directory of {node}")

    def log_mark(self, node: str, debug: bool = True) -> int:
        return self._log_size(self.check_node(node), debug)

    def log_since(self, node: str, mark: int, debug: bool = True) -> str:
        size = self._log_size(self.check_node(node), debug)
        if size == 0:
            return ""
        if size < mark:  # the log was replaced (purged cluster): read all of it
            mark = 0
        return self._read_log(node, debug, mark)


def last_lines(text: str, lines: int) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()][-lines:]
