"""Lab 05b's checks against cheap fakes, on a fake cluster: archiving "turned on" by a file the node
never read, an archive filled with `touch` and `echo`, rows re-inserted after the restore. The real
variants (no replay, replay past the point, one node only) are proven on a real cluster in
tests/integration/test_point_in_time_restore.py; here, the messages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dselab import environment
from dselab.check_engine import CheckContext, CheckResult, run_check
from dselab.check_helpers import pitr_batches as batches
from dselab.check_helpers.live_tables import Live
from dselab.check_helpers.pitr_tables import time_record
from dselab.runtime.base import LAB_NODES, CommandResult, FileEntry
from dselab.state import StateStore
from shipped_content import shipped_lab

LAB = "05b-point-in-time"
BEAN = "org.apache.cassandra.db:type=Commitlog"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
A_AT, B_AT, OLD = 1_796_053_753_000_000 - 500_000, 1_796_053_753_000_000 + 4_000_000, 1_700_000_000_000_000
SEGMENT = next(FIXTURES.glob("CommitLog-*.log.head"))
REPLAY = (f"INFO  [main] 2026-11-30 15:50:51,732 CommitLog.java:206 - Replaying /x/commitlog/{SEGMENT.name[:-5]}\n"
          "INFO  [main] 2026-11-30 15:50:52,449 CommitLog.java:210 - Log replay complete, 34 replayed mutations in 7 ms\n")


def a_time(table: str, key: tuple[Any, ...]) -> int:
    return A_AT if key in batches.a_keys()[table] else OLD


class FakeCluster:
    """The reads lab 05b's checks make: the Commitlog MBean, CQL at ALL, the archive, the log."""

    name, cluster = "fake", "lab"

    def __init__(self) -> None:
        self.mbean = {"ArchiveCommand": {n: f"/bin/ln %path /d/{n}/commitlog_archive/%name" for n in LAB_NODES},
                      "RestorePointInTime": dict.fromkeys(LAB_NODES, "1796053753000000")}
        self.tables = batches.after_a()
        self.times = {t: {k: a_time(t, k) for k in rows} for t, rows in self.tables.items()}
        self.archive = {n: {SEGMENT.name.removesuffix(".head"): SEGMENT.read_bytes()} for n in LAB_NODES}

    def node_names(self) -> Sequence[str]:
        return LAB_NODES

    def is_running(self, node: str) -> bool:
        return True

    def data_dir(self, node: str) -> str:
        return f"/d/{node}"

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 120) -> CommandResult:
        value = self.mbean[args[-1]][node]
        return CommandResult(("nodetool", *args), 0, f"{BEAN}\n{value or 'null'}\n", "")

    def cql(self, statement: str, params: Sequence[Any] | None = None, node: str | None = None,
            consistency: str | None = None) -> list[dict[str, Any]]:
        table = statement.split(" FROM training.")[1].split()[0]
        return [{**dict(zip(environment.COLUMNS[table], row, strict=True)), "written_at": self.times[table][k]}
                for k, row in self.tables[table].items()]

    def list_files(self, node: str, relative: str = "") -> list[FileEntry]:
        return [FileEntry(f"commitlog_archive/{name}", len(data), 0.0) for name, data in self.archive[node].items()]

    def read_bytes(self, node: str, relative: str, limit: int) -> bytes:
        return self.archive[node][relative.rsplit("/", 1)[-1]][:limit]

    def log_since(self, node: str, mark: int, debug: bool = True) -> str:
        return REPLAY

    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None, timeout: float = 60) -> CommandResult:
        assert list(argv) == ["date", "+%z"]
        return CommandResult(tuple(argv), 0, "+0000\n", "")


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


def check(cluster: FakeCluster, step: str, store: StateStore) -> CheckResult:
    lab = shipped_lab("05b")
    ctx = CheckContext(runtime=cluster, store=store, lab=lab,  # type: ignore[arg-type]
                       baseline={"started_at": 0, "log_marks": {}})  # type: ignore[arg-type]
    return run_check(ctx, lab.step(step))


def test_archiving_is_what_each_node_read_at_start_up_not_a_file_on_disk(store: StateStore) -> None:
    cluster = FakeCluster()
    assert check(cluster, "archiving", store).passed
    cluster.mbean["ArchiveCommand"]["dse-node-1"] = None  # the file written (or touched), the node not restarted
    cluster.mbean["ArchiveCommand"]["dse-node-2"] = "/bin/ln %path /tmp/%name"
    result = check(cluster, "archiving", store)
    assert result.status == "fail"
    assert "dse-node-1 archives nothing (it read no archive_command when it last started)" in result.message
    assert "which does not put %path at /d/dse-node-2/commitlog_archive/%name" in result.message
    assert "read at start-up only" in result.hint


@pytest.fixture
def recorded(store: StateStore) -> FakeCluster:
    """Steps 2 and 3 recorded (A's write times, B's first), the cluster restored to the point."""
    cluster = FakeCluster()
    live = {t: Live(cluster.tables[t], dict(cluster.times[t])) for t in environment.TABLES}
    store.set_fact(LAB, "batch_a_times", time_record(live))
    store.set_fact(LAB, "batch_b_first", B_AT)
    assert check(cluster, "restore", store).passed
    return cluster


@pytest.mark.parametrize("content, why", [(b"", "holds 0 bytes"),
                                           (b"CommitLog\n" * 8, "does not start with a commit-log segment header")])
def test_a_touched_or_echoed_file_in_the_archive_is_no_segment(recorded: FakeCluster, store: StateStore,
                                                              content: bytes, why: str) -> None:
    recorded.archive["dse-node-2"]["CommitLog-7-1796053999999.log"] = content
    result = check(recorded, "restore", store)
    assert result.status == "fail" and "commitlog_archive/ of dse-node-2: CommitLog-7-1796053999999.log" in result.message
    assert why in result.message


def test_batch_a_inserted_again_after_a_snapshot_only_restore_has_new_write_times(recorded: FakeCluster,
                                                                                 store: StateStore) -> None:
    recorded.times["customers"][(5003,)] = B_AT + 60_000_000
    result = check(recorded, "restore", store)
    assert result.status == "fail" and "written after the noted time (e.g. customer 5003" in result.message


def test_a_node_started_with_a_point_after_the_bad_deploy_is_named(recorded: FakeCluster, store: StateStore) -> None:
    recorded.mbean["RestorePointInTime"]["dse-node-1"] = str(B_AT + 1_000_000)
    result = check(recorded, "restore", store)
    assert result.status == "fail" and result.message.startswith("dse-node-1 was restored to ")


def test_a_node_that_replayed_nothing_is_named(recorded: FakeCluster, store: StateStore) -> None:
    recorded.log_since = lambda node, mark, debug=True: "" if node == "dse-seed" else REPLAY  # type: ignore[method-assign]
    result = check(recorded, "restore", store)
    assert result.status == "fail" and "dse-seed has replayed no archived segment since the bad deploy" in result.message


def test_a_replay_from_before_the_bad_deploy_does_not_count(recorded: FakeCluster, store: StateStore) -> None:
    recorded.log_since = lambda node, mark, debug=True: REPLAY.replace("15:50:5", "15:40:5")  # type: ignore[method-assign]
    result = check(recorded, "restore", store)
    assert result.status == "fail" and "dse-seed has replayed no archived segment since the bad deploy" in result.message
