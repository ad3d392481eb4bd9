"""The behaviour both runtimes share (runtime/common.py), on an in-memory runtime.

MemoryRuntime supplies only the hooks: which nodes run, what nodetool answers, what the logs
hold. Everything under test is the shared code both real runtimes inherit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dselab.errors import ClusterDown, EnvironmentProblem, NodeTimeout, UsageError
from dselab.runtime import common
from dselab.runtime.base import CommandResult, NodeStatus
from dselab.runtime.common import CommonRuntime, last_lines, start_timeout

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ADDRESSES = {"dse-seed": "127.0.55.1", "dse-node-1": "127.0.55.2", "dse-node-2": "127.0.55.3"}


class Session:
    def __init__(self, node: str) -> None:
        self.node = node
        self.cluster = self
        self.shut = False

    def shutdown(self) -> None:
        self.shut = True

    def execute(self, statement: Any, params: Any) -> list[Any]:
        return []


class MemoryRuntime(CommonRuntime):
    name = "memory"

    def __init__(self, running: Sequence[str] = ("dse-seed", "dse-node-1", "dse-node-2"),
                 status_text: str = "", logs: dict[str, str] | None = None) -> None:
        super().__init__("lab", None)
        self.running = set(running)
        self.status_text = status_text
        self.logs = logs or {}
        self.asked: list[str] = []
        self.sessions: list[Session] = []

    def is_running(self, node: str) -> bool:
        return node in self.running

    def stop_node(self, node: str) -> None:
        self.running.discard(node)

    def kill_node(self, node: str) -> None:
        self.running.discard(node)

    def up_nodes(self, nodes: Sequence[str]) -> None:
        self.running.update(nodes)

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 600) -> CommandResult:
        self.asked.append(node)
        return CommandResult(("nodetool", *args), 0, self.status_text, "")

    def log_tail(self, node: str, lines: int = 40) -> list[str]:
        return last_lines(self.logs.get(node, ""), lines)

    def _purge(self) -> None:
        self.logs.clear()

    def _node_status(self, node: str, ring: dict[str, str]) -> NodeStatus:
        return NodeStatus(node, ADDRESSES[node], self.ring_state(ring, ADDRESSES[node], self.is_running(node)),
                          "5.0.9", "/data")

    def _connect(self, node: str) -> Any:
        session = Session(node)
        self.sessions.append(session)
        return session

    def _log_size(self, node: str, debug: bool) -> int:
        return len(self.logs.get(node, "").encode())

    def _read_log(self, node: str, debug: bool, offset: int) -> str:
        return self.logs.get(node, "").encode()[offset:].decode()


# -- nodes and errors -------------------------------------------------------------------------

def test_node_names_follow_the_cluster_and_unknown_names_list_them() -> None:
    runtime = MemoryRuntime()
    assert runtime.node_names() == ["dse-seed", "dse-node-1", "dse-node-2"]
    with pytest.raises(UsageError, match="the nodes are: dse-seed, dse-node-1, dse-node-2"):
        runtime.check_node("dse-node-9")
    with pytest.raises(UsageError, match="the clusters are: lab, restore"):
        CommonRuntime.__init__(runtime, "staging", None)


def test_not_running_names_the_node_or_the_whole_cluster() -> None:
    runtime = MemoryRuntime(running=["dse-seed"])
    one = runtime.not_running("dse-node-2")
    assert isinstance(one, ClusterDown) and one.message == "dse-node-2 is not running"
    assert "dselab node start dse-node-2" in (one.fix or "")
    runtime.running.clear()
    everything = runtime.not_running("dse-node-2")
    assert everything.message == "the lab cluster is down (no node is running)"
    assert everything.fix == runtime.up_fix


def test_only_the_known_tools_run() -> None:
    assert MemoryRuntime().check_tool("sstableloader") == "sstableloader"
    with pytest.raises(UsageError, match="known: sstableloader"):
        MemoryRuntime().check_tool("sstablescrub")


def test_up_starts_every_node_and_down_purges_after_stopping() -> None:
    runtime = MemoryRuntime(running=[], logs={"dse-seed": "x"})
    runtime.up()
    assert runtime.running == set(ADDRESSES)
    runtime.down(purge=True)
    assert runtime.running == set() and runtime.logs == {}


# -- the ring's view --------------------------------------------------------------------------

def test_status_takes_each_state_from_the_first_running_nodes_nodetool_status() -> None:
    text = (FIXTURES / "status-5.0.txt").read_text().replace("UN  127.0.55.3", "DN  127.0.55.3")
    runtime = MemoryRuntime(running=["dse-node-1", "dse-node-2"], status_text=text)
    states = {s.name: s.state for s in runtime.status()}
    assert runtime.asked == ["dse-node-1"]  # the seed is down: the next running node answers
    # The seed's process is gone: DN whatever the ring says; node-2 runs but the ring says DN.
    assert states == {"dse-seed": "DN", "dse-node-1": "UN", "dse-node-2": "DN"}


def test_a_running_node_the_ring_does_not_list_counts_as_up() -> None:
    runtime = MemoryRuntime(status_text="nodetool: Failed to connect\n")
    assert runtime.ring_states() == {}
    assert {s.state for s in runtime.status()} == {"UN"}
    assert MemoryRuntime(running=[]).ring_states() == {}


# -- waiting for the ready line, and timeouts -------------------------------------------------

def test_wait_ready_returns_once_the_ready_line_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = iter(["", "INFO starting\n", f"INFO {common.READY_LINE} on /127.0.55.1:9042\n"])
    monkeypatch.setattr(common.time, "sleep", lambda s: None)
    MemoryRuntime().wait_ready("dse-seed", lambda: next(outputs), lambda: None, fix="see the log", interval=1)


def test_a_node_that_ends_while_starting_is_named_with_its_log(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = MemoryRuntime(logs={"dse-node-1": "INFO a\nERROR Exception encountered during startup\n"})
    with pytest.raises(EnvironmentProblem) as err:
        runtime.wait_ready("dse-node-1", lambda: "", lambda: "exited with code 3", fix="see output.log",
                           interval=1)
    assert err.value.message == ("dse-node-1 exited with code 3 while starting; last log lines: "
                                 "INFO a | ERROR Exception encountered during startup")
    assert err.value.fix == "see output.log"


def test_a_node_that_never_gets_ready_is_a_timeout_with_its_log_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_START_TIMEOUT", "0.05")
    monkeypatch.setattr(common.time, "sleep", lambda s: None)
    runtime = MemoryRuntime(logs={"dse-node-2": "INFO 1\nINFO 2\nINFO 3\nWARN stuck bootstrapping\n"})
    with pytest.raises(NodeTimeout) as err:
        runtime.wait_ready("dse-node-2", lambda: "", lambda: None, fix="", interval=0)
    assert err.value.node == "dse-node-2"
    assert err.value.message == "dse-node-2: CQL listening did not happen within 0s"  # no log text
    assert err.value.log_tail.endswith("INFO 2\nINFO 3\nWARN stuck bootstrapping")


def test_timeout_error_survives_a_log_that_cannot_be_read() -> None:
    class Broken(MemoryRuntime):
        def log_tail(self, node: str, lines: int = 40) -> list[str]:
            raise OSError("engine went away")

    err = Broken().timeout_error("dse-seed", 90, "`nodetool repair`")
    assert err.message == "dse-seed: `nodetool repair` did not happen within 90s" and err.log_tail == ""


@pytest.mark.parametrize("raw", ["soon", "0", "-5"])
def test_start_timeout_must_be_a_positive_number(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("DSELAB_START_TIMEOUT", raw)
    with pytest.raises(UsageError, match="DSELAB_START_TIMEOUT"):
        start_timeout()


def test_start_timeout_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSELAB_START_TIMEOUT", raising=False)
    assert start_timeout() == 300


# -- CQL sessions -----------------------------------------------------------------------------

def test_one_session_per_node_reused_and_closed_with_the_runtime() -> None:
    runtime = MemoryRuntime()
    assert runtime.cql("SELECT 1") == [] and runtime.cql("SELECT 2") == []
    runtime.cql("SELECT 3", node="dse-node-1")
    assert [s.node for s in runtime.sessions] == ["dse-seed", "dse-node-1"]  # the first node by default
    runtime.close_cql("dse-seed")
    assert runtime.sessions[0].shut and not runtime.sessions[1].shut
    runtime.close()
    assert runtime.sessions[1].shut


def test_cql_on_a_stopped_node_is_cluster_down_without_connecting() -> None:
    runtime = MemoryRuntime(running=["dse-seed"])
    with pytest.raises(ClusterDown, match="dse-node-2 is not running"):
        runtime.cql("SELECT 1", node="dse-node-2")
    assert runtime.sessions == []


def test_threads_asking_at_once_share_one_session_per_node() -> None:
    """A check reads both tables from two threads; in a fresh process both ask for the first session
    at once, and a second connect would leak a driver cluster."""

    class SlowConnect(MemoryRuntime):
        def _connect(self, node: str) -> Any:
            time.sleep(0.05)  # both threads are inside before the first connect returns
            return super()._connect(node)

    runtime = SlowConnect()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: runtime.cql("SELECT 1"), range(4)))
    assert [s.node for s in runtime.sessions] == ["dse-seed"]


# -- logs -------------------------------------------------------------------------------------

def test_log_since_reads_from_the_mark_and_a_replaced_log_from_its_start() -> None:
    runtime = MemoryRuntime(logs={"dse-seed": "old line\n"})
    mark = runtime.log_mark("dse-seed")
    runtime.logs["dse-seed"] += "new line\n"
    assert runtime.log_since("dse-seed", mark) == "new line\n"
    runtime.logs["dse-seed"] = "purged\n"  # shorter than the mark: a new log
    assert runtime.log_since("dse-seed", mark) == "purged\n"
    assert runtime.log_since("dse-node-1", 0) == ""
    with pytest.raises(UsageError):
        runtime.log_since("dse-node-7", 0)


def test_last_lines_skips_blank_lines() -> None:
    assert last_lines("first\n\nsecond \ufffd\nthird\n\n", 2) == ["second \ufffd", "third"]
