"""Lab 05c's restore check against cheap fakes, on a fake cluster: rows typed in again, customers
restored too or rewritten, a restore on top of the migration, a restore on one node only. The
real restores (refresh and import, the variants) run on a real cluster in
tests/integration/test_one_table_restore.py; here, the verdicts and their messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dselab import environment
from dselab.check_engine import CheckContext, CheckResult, run_check
from dselab.check_helpers import one_table
from dselab.check_helpers.live_tables import Live, times_digest
from dselab.check_helpers.table_rows import environment_tables
from dselab.runtime.base import LAB_NODES, CommandResult
from dselab.state import StateStore
from shipped_content import shipped_lab

LAB = "05c-one-table"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OLD, DAY_TWO = 1_700_000_000_000_000, 1_796_053_753_000_000
ADDRESSES = dict(zip(LAB_NODES, ("127.0.55.1", "127.0.55.2", "127.0.55.3"), strict=True))


class FakeCluster:
    """The reads the restore check makes: status and tablestats, CQL at ALL with write times."""

    name, cluster = "fake", "lab"

    def __init__(self) -> None:
        self.tables = one_table.restored()
        self.times = {t: {k: DAY_TWO if t == "customers" and k[0] in one_table.SIGNUPS else OLD for k in rows}
                      for t, rows in self.tables.items()}
        self.partitions = dict.fromkeys(LAB_NODES, 2700)

    def node_names(self) -> Sequence[str]:
        return LAB_NODES

    def is_running(self, node: str) -> bool:
        return True

    def address(self, node: str) -> str:
        return ADDRESSES[node]

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 120) -> CommandResult:
        if args[0] == "status":
            return CommandResult(("nodetool", *args), 0, (FIXTURES / "status-5.0.txt").read_text(), "")
        stats = {"training": {"tables": {"orders": {"number_of_partitions_estimate": self.partitions[node]}}}}
        return CommandResult(("nodetool", *args), 0, json.dumps(stats), "")

    def cql(self, statement: str, params: Sequence[Any] | None = None, node: str | None = None,
            consistency: str | None = None) -> list[dict[str, Any]]:
        table = statement.split(" FROM training.")[1].split()[0]
        return [{**dict(zip(environment.COLUMNS[table], row, strict=True)), "written_at": self.times[table][k]}
                for k, row in self.tables[table].items()]

    def live(self) -> dict[str, Live]:
        return {t: Live(self.tables[t], dict(self.times[t])) for t in environment.TABLES}


def check(cluster: FakeCluster, store: StateStore) -> CheckResult:
    lab = shipped_lab("05c")
    ctx = CheckContext(runtime=cluster, store=store, lab=lab,  # type: ignore[arg-type]
                       baseline={"started_at": 0, "log_marks": {}})  # type: ignore[arg-type]
    return run_check(ctx, lab.step("restore-orders"))


@pytest.fixture
def restored(tmp_path: Path) -> tuple[FakeCluster, StateStore]:
    """Steps 1 and 2 recorded (the snapshot's write times, day two's), orders restored alone."""
    store = StateStore(tmp_path / "state.sqlite")
    cluster = FakeCluster()
    live = cluster.live()
    env = {t: Live(rows, dict.fromkeys(rows, OLD)) for t, rows in environment_tables().items()}
    store.set_fact(LAB, "snapshot_times", {t: times_digest(env[t]) for t in environment.TABLES})
    store.set_fact(LAB, "day_two_times", {"customers": times_digest(live["customers"]), "first": DAY_TWO})
    assert check(cluster, store).passed
    return cluster, store


def test_orders_typed_in_again_carry_new_write_times(restored: tuple[FakeCluster, StateStore]) -> None:
    cluster, store = restored
    cluster.times["orders"][(12, 1)] = DAY_TWO + 90_000_000
    result = check(cluster, store)
    assert result.status == "fail" and "1 rows of training.orders were written after day two began (e.g. order 12/1" \
        in result.message


def test_customers_restored_too_or_rewritten_is_refused(restored: tuple[FakeCluster, StateStore]) -> None:
    cluster, store = restored
    cluster.tables["customers"] = environment_tables()["customers"]  # the whole keyspace restored
    result = check(cluster, store)
    assert result.status == "fail" and "customer 7000: signed up on day two" in result.message
    cluster.tables["customers"] = one_table.restored()["customers"]
    cluster.times["customers"][(7004,)] = DAY_TWO + 5_000_000  # the sign-ups typed in again afterwards
    result = check(cluster, store)
    assert result.status == "fail" and "customers was restored or written again; restore orders alone" \
        in result.message


def test_a_restore_on_top_of_the_migration_is_refused(restored: tuple[FakeCluster, StateStore]) -> None:
    cluster, store = restored
    cluster.tables["orders"] = one_table.after_day_two()["orders"]
    result = check(cluster, store)
    assert result.status == "fail" and "truncate orders before loading the snapshot" in result.message
    assert "truncate training.orders" in result.hint


def test_a_restore_on_one_node_only_is_refused_by_each_nodes_own_count(
        restored: tuple[FakeCluster, StateStore]) -> None:
    cluster, store = restored
    cluster.partitions.update({"dse-node-1": 0, "dse-node-2": 12})  # the rows still read whole at ALL
    result = check(cluster, store)
    assert result.status == "fail"
    assert result.message.startswith("dse-node-1 holds ~0 partitions of training.orders but owns 64% of the ring; "
                                     "dse-node-2 holds ~12 partitions")
    assert "load the snapshot on every node" in result.message


def test_without_step_2_the_restore_cannot_be_judged(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    store.set_fact(LAB, "snapshot_times", {"orders": "x", "customers": "y"})
    result = check(FakeCluster(), store)
    assert result.status == "fail" and result.message.startswith("step 2 was never confirmed in this lab run")
