"""Lab 05's checks against the cheap fakes of issue 16 (item 7), on a fake cluster: a `touch`ed
Data.db in backups/, a restore skipped or replaced by inserting the rows again. What the real
cluster does is proven in tests/integration/test_01_lab05_live.py; here, every message."""

from __future__ import annotations

import json
import struct
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dselab import environment
from dselab.check_engine import END_OF_LAB, CheckContext, CheckResult, Verdict, run_check
from dselab.runtime.base import LAB_NODES, CommandResult, FileEntry
from dselab.state import StateStore
from fake_sstables import sstable_files
from shipped_content import shipped_lab

LAB = "05-backup-restore"
FACT = "write_times"
IDS = {"customers": uuid.UUID("27b977e0-ec6e-11f1-9a3b-435c731ca118"),
       "orders": uuid.UUID("283a8ec0-ec6e-11f1-9a3b-435c731ca118")}
NOW = time.time()  # step 7's record is made at the real time, so the story is told relative to it
STARTED = NOW - 3600  # the lab run began (epoch seconds)
LOADED = int((NOW - 86400) * 1e6)  # µs: the environment wrote the rows, before the lab
STEP7 = int((NOW - 1800) * 1e6)  # µs: step 7's new rows


def rows(table: str, old: int = LOADED, new: int = STEP7) -> list[dict[str, Any]]:
    make = environment.customer_rows if table == "customers" else environment.order_rows
    out = []
    for values in make(0, environment.CUSTOMERS + environment.NEW_CUSTOMERS):
        row = dict(zip(environment.COLUMNS[table], values, strict=True))
        row["written_at"] = (old if row["customer_id"] < environment.CUSTOMERS else new) + row["customer_id"]
        out.append(row)
    return out


class FakeCluster:
    """The reads lab 05's later checks make: CQL, statusbackup, the data dir's files."""

    name = "fake"

    def __init__(self, cluster: str = "lab") -> None:
        self.cluster = cluster
        self.tables = {t: rows(t) for t in environment.TABLES}
        self.truncated: dict[str, float] = {}  # table -> epoch seconds
        self.files: dict[str, list[FileEntry]] = {n: [] for n in LAB_NODES}
        self.contents: dict[tuple[str, str], bytes] = {}

    def node_names(self) -> Sequence[str]:
        return LAB_NODES if self.cluster == "lab" else ("dse-restore",)

    def is_running(self, node: str) -> bool:
        return True

    def cql(self, statement: str, params: Sequence[Any] | None = None, node: str | None = None,
            consistency: str | None = None) -> list[dict[str, Any]]:
        if "FROM system_schema.tables" in statement:
            return [{"table_name": t, "id": i} for t, i in IDS.items()]
        if "FROM system_schema.keyspaces" in statement:
            return [{"keyspace_name": "training"}]
        if "FROM system.local" in statement:
            blob = {IDS[t]: b"\x00" * 12 + struct.pack(">q", int(at * 1000)) for t, at in self.truncated.items()}
            return [{"truncated_at": blob or None}]
        table = statement.split(" FROM training.")[1].split()[0]
        if statement.startswith("SELECT count(*)"):
            return [{"n": len(self.tables[table])}]
        return [dict(r) for r in self.tables[table]]

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 300) -> CommandResult:
        assert list(args) == ["statusbackup"], args
        return CommandResult(("nodetool", *args), 0, "running\n", "")

    def list_files(self, node: str, relative: str = "") -> list[FileEntry]:
        return [e for e in self.files[node] if e.path.startswith(relative + "/")]

    def read_bytes(self, node: str, relative: str, limit: int) -> bytes:
        return self.contents[(node, relative)][:limit]

    def add(self, node: str, path: str, content: bytes) -> None:
        self.files[node].append(FileEntry(path, len(content), 0.0, len(self.contents) + 1, 2))
        self.contents[(node, path)] = content

    def flush_with_backup(self) -> None:
        """What `nodetool flush` leaves with backup on: a whole SSTable in every table's backups/."""
        for node in LAB_NODES:
            for table, table_id in IDS.items():
                for name, content in sstable_files("nb-3-big").items():
                    self.add(node, f"training/{table}-{table_id.hex}/backups/{name}", content)

    def reinsert(self, at: int) -> None:
        """The generated rows inserted again (cqlsh, a script, dselab's environment module)."""
        self.tables = {t: rows(t, at, at) for t in environment.TABLES}


def check(cluster: FakeCluster, step: str, store: StateStore, restore: FakeCluster | None = None) -> CheckResult:
    lab = shipped_lab("05")
    ctx = CheckContext(runtime=cluster, store=store, lab=lab,  # type: ignore[arg-type]
                       baseline={"started_at": STARTED, "log_marks": {}}, restore_runtime=restore)  # type: ignore[arg-type]
    return run_check(ctx, lab.step(step))


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


@pytest.fixture
def after_step7(store: StateStore) -> FakeCluster:
    """Steps 1-7 done and checked: new rows flushed into backups/, write times recorded."""
    cluster = FakeCluster()
    cluster.flush_with_backup()
    result = check(cluster, "incremental-files", store)
    assert result.passed, result.message
    return cluster


def test_a_touched_empty_data_file_in_backups_is_not_an_sstable(store: StateStore) -> None:
    cluster = FakeCluster()
    for node in LAB_NODES:
        for table, table_id in IDS.items():
            cluster.add(node, f"training/{table}-{table_id.hex}/backups/nb-9-big-Data.db", b"")
    result = check(cluster, "incremental-files", store)
    assert result.status == "fail"
    assert result.message.startswith(
        "not SSTables Cassandra wrote: backups/ of training.customers on dse-seed: nb-9-big has no TOC.txt")
    assert "nb-9-big Data.db is empty" in result.message
    assert "remove the files you put in backups/ by hand" in result.hint
    assert store.fact(LAB, FACT) is None  # nothing recorded from a failed check


def test_a_real_sstable_with_a_line_appended_does_not_match_its_digest(store: StateStore) -> None:
    cluster = FakeCluster()
    cluster.flush_with_backup()
    path = f"training/orders-{IDS['orders'].hex}/backups/nb-3-big-Data.db"
    cluster.contents[("dse-node-2", path)] += b"echo\n"
    cluster.files["dse-node-2"] = [FileEntry(e.path, len(cluster.contents[("dse-node-2", e.path)]), 0.0, e.inode)
                                   for e in cluster.files["dse-node-2"]]
    result = check(cluster, "incremental-files", store)
    assert "backups/ of training.orders on dse-node-2: nb-3-big has a Data.db whose CRC32" in result.message


def test_step_7_records_a_small_fact_and_keeps_its_time_while_the_rows_stay_the_same(
        store: StateStore, after_step7: FakeCluster) -> None:
    fact = store.fact(LAB, FACT)
    assert len(json.dumps(fact)) < 4096
    assert set(fact["tables"]) == {"customers", "orders"}
    assert check(after_step7, "incremental-files", store).passed
    assert store.fact(LAB, FACT) == fact  # same rows, same write times: the record is not renewed
    after_step7.tables["customers"][4000]["written_at"] += 1  # new-rows.cql run again
    assert check(after_step7, "incremental-files", store).passed
    assert store.fact(LAB, FACT)["recorded_at"] > fact["recorded_at"]


def test_skipping_the_loss_fails_the_restore_with_no_truncation(store: StateStore, after_step7: FakeCluster) -> None:
    result = check(after_step7, "restore", store)
    assert result.status == "fail"
    assert result.message == ("training.customers was never truncated: nothing was lost, "
                              "so there is nothing to restore yet")


def test_a_truncation_before_step_7_is_no_loss_of_what_was_backed_up(store: StateStore,
                                                                      after_step7: FakeCluster) -> None:
    after_step7.truncated = {t: STARTED + 10 for t in environment.TABLES}
    result = check(after_step7, "restore", store)
    assert "before step 7 recorded the rows you backed up: lose the data (step 8) first" in result.message


def test_loss_wants_empty_tables_and_a_truncation_record(store: StateStore, after_step7: FakeCluster) -> None:
    after_step7.tables = {t: [] for t in environment.TABLES}  # emptied by DELETE, say
    assert "was never truncated" in check(after_step7, "loss", store).message
    after_step7.truncated = {t: store.fact(LAB, FACT)["recorded_at"] + 1 for t in environment.TABLES}
    assert check(after_step7, "loss", store).passed


def lost(cluster: FakeCluster, store: StateStore) -> float:
    at = store.fact(LAB, FACT)["recorded_at"] + 1
    cluster.truncated = {t: at for t in environment.TABLES}
    return at


def test_an_honest_restore_keeps_every_write_time_and_passes(store: StateStore, after_step7: FakeCluster) -> None:
    lost(after_step7, store)  # TRUNCATE, then snapshot + backups/ files put back: the same cells
    result = check(after_step7, "restore", store)
    assert result.passed, result.message
    assert "with the write times it had before the loss" in result.message


def test_rows_inserted_again_after_the_loss_fail_naming_their_new_write_times(store: StateStore,
                                                                             after_step7: FakeCluster) -> None:
    at = lost(after_step7, store)
    after_step7.reinsert(int((at + 30) * 1e6))
    result = check(after_step7, "restore", store)
    assert result.status == "fail"
    assert result.message.startswith("4050 of 4050 rows of training.customers were written after the TRUNCATE at ")
    assert "(e.g. customer 0): inserted again, not restored" in result.message
    assert "keep the write times they had before the loss" in result.message


def test_rows_inserted_again_with_made_up_old_timestamps_fail_too(store: StateStore, after_step7: FakeCluster) -> None:
    lost(after_step7, store)
    after_step7.reinsert(LOADED - 10**6)  # `USING TIMESTAMP` an older time than the loss
    result = check(after_step7, "restore", store)
    assert result.message.startswith("training.customers: the 4000 rows of the snapshot carry other write times "
                                     "than step 7 recorded before the loss (e.g. customer 0: written ")


def test_only_the_incremental_rows_missing_their_write_times_names_backups(store: StateStore,
                                                                          after_step7: FakeCluster) -> None:
    lost(after_step7, store)
    for row in after_step7.tables["orders"]:
        if row["customer_id"] >= environment.CUSTOMERS:
            row["written_at"] = STEP7 - 10**6  # new-rows.cql typed again USING TIMESTAMP
    result = check(after_step7, "restore", store)
    assert result.message.startswith("training.orders: the 100 rows only backups/ held (written in step 7) carry "
                                     "other write times")


def test_a_restore_without_step_7s_record_cannot_be_told_from_inserts(store: StateStore) -> None:
    cluster = FakeCluster()
    cluster.truncated = {t: STEP7 / 1e6 + 100 for t in environment.TABLES}
    result = check(cluster, "restore", store)
    assert "were never recorded in this lab run (step 7's check records them before the loss)" in result.message
    assert result.hint.startswith("check step 7 before the loss")


def test_new_cluster_with_inserted_rows_fails_and_with_loaded_sstables_passes(store: StateStore,
                                                                             after_step7: FakeCluster) -> None:
    target = FakeCluster("restore")
    target.reinsert(int(time.time() * 1e6))
    result = check(after_step7, "new-cluster", store, restore=target)
    assert result.message.startswith("restore cluster: training.customers: the 4000 rows of the snapshot carry "
                                     "other write times than step 7 recorded")
    target.tables = {t: rows(t) for t in environment.TABLES}  # what sstableloader streams: the same cells
    assert check(after_step7, "new-cluster", store, restore=target).passed


def test_end_of_lab_names_the_cluster_whose_rows_were_inserted_again(store: StateStore,
                                                                    after_step7: FakeCluster) -> None:
    at = lost(after_step7, store)
    target = FakeCluster("restore")
    assert check_end(after_step7, store, target).status == "pass"
    target.reinsert(int((at + 30) * 1e6))
    assert check_end(after_step7, store, target).message.startswith("restore cluster: training.customers: the 4000")
    after_step7.reinsert(int((at + 30) * 1e6))
    assert check_end(after_step7, store, target).message.startswith("lab cluster: 4050 of 4050 rows")


def check_end(cluster: FakeCluster, store: StateStore, restore: FakeCluster) -> Verdict:
    """The end-of-lab verification's verdict (it is no step, so run_check does not run it)."""
    lab = shipped_lab("05")
    ctx = CheckContext(runtime=cluster, store=store, lab=lab,  # type: ignore[arg-type]
                       baseline={"started_at": STARTED, "log_marks": {}}, restore_runtime=restore)  # type: ignore[arg-type]
    fn = lab.checks.get(END_OF_LAB)
    assert fn is not None
    with pytest.raises(Verdict) as verdict:
        fn(ctx)
    return verdict.value
