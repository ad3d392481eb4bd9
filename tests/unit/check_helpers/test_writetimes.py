"""Write times and the truncation record: what tells a restore from rows inserted again (pure logic)."""

from __future__ import annotations

import json
import uuid

import pytest

from dselab import environment
from dselab.check_helpers import writetimes

T0 = 1_796_009_300_000_000  # µs: when the environment loaded the rows
T7 = 1_796_009_900_000_000  # µs: step 7's new rows
# A truncated_at value as 5.0.9 wrote it (segment id, position, then 2026-11-30 03:28:23.640 UTC in ms).
BLOB = b"\x00\x00\x01\xa2*\x7f\x0c\xe9\x00\x00\x02\xa1\x00\x00\x01\xa2*\x7f\x1eX"


def customers(base: int = T0, new: int = T7, count: int = environment.CUSTOMERS + environment.NEW_CUSTOMERS):
    return [{"customer_id": i, "written_at": (base if i < environment.CUSTOMERS else new) + i} for i in range(count)]


def orders(base: int = T0, new: int = T7):
    return [{"customer_id": i, "order_id": j, "written_at": (base if i < environment.CUSTOMERS else new) + i}
            for i in range(environment.CUSTOMERS + environment.NEW_CUSTOMERS) for j in range(2)]


def recorded() -> dict[str, dict]:
    return {"customers": writetimes.table_times("customers", customers()),
            "orders": writetimes.table_times("orders", orders())}


def test_the_select_reads_the_fingerprint_columns_and_one_write_time() -> None:
    assert writetimes.select_statement("orders") == (
        "SELECT customer_id, order_id, item, quantity, amount, WRITETIME(item) AS written_at FROM training.orders")


def test_rows_split_into_the_snapshot_and_the_incremental_group() -> None:
    times = writetimes.table_times("customers", customers())
    assert times["snapshot"]["rows"] == 4000 and times["incremental"]["rows"] == 50
    assert times["sample"]["4049"] == T7 + 4049 and times["sample"]["0"] == T0
    assert len(times["sample"]) == len(writetimes.SAMPLE_CUSTOMERS)
    order = writetimes.table_times("orders", orders())
    assert order["incremental"]["rows"] == 100 and "4000/1" in order["sample"]


def test_the_fact_stays_well_under_the_fact_limit() -> None:
    fact = writetimes.fact(recorded(), now=1.0)
    assert len(json.dumps(fact)) < writetimes.FACT_LIMIT
    assert fact["recorded_at"] == 1.0


def test_the_same_rows_with_the_same_write_times_compare_equal_in_any_order() -> None:
    shuffled = list(reversed(customers()))
    assert writetimes.write_time_problem("customers", recorded()["customers"],
                                         writetimes.table_times("customers", shuffled)) is None


def test_rows_inserted_again_name_the_snapshot_rows_and_a_sampled_row() -> None:
    again = writetimes.table_times("customers", customers(base=T7 + 10**9, new=T7 + 10**9))
    problem = writetimes.write_time_problem("customers", recorded()["customers"], again)
    assert problem and problem.startswith("training.customers: the 4000 rows of the snapshot carry other write times")
    assert "e.g. customer 0: written 2026-11-30 03:28:20.000000 UTC before the loss" in problem
    assert "not restored from the backup files" in problem


def test_only_the_incremental_rows_inserted_again_name_backups() -> None:
    again = writetimes.table_times("orders", orders(new=T7 + 5))
    problem = writetimes.write_time_problem("orders", recorded()["orders"], again, "restore cluster: ")
    assert problem and problem.startswith(
        "restore cluster: training.orders: the 100 rows only backups/ held (written in step 7) carry other write times")
    assert "e.g. order 4000/0" in problem


def test_rows_written_after_a_moment() -> None:
    rows = customers()
    assert len(writetimes.written_after(rows, (T7 + 4000) / 1e6)) == 49
    assert writetimes.written_after(rows, (T7 + 10**6) / 1e6) == []


def test_the_truncation_time_is_the_last_eight_bytes_in_milliseconds() -> None:
    assert writetimes.truncated_at(BLOB) == pytest.approx(1796009303.640)
    assert writetimes.truncated_at(b"") is None and writetimes.truncated_at(None) is None
    assert writetimes.truncated_at(b"\x00" * 20) is None


def test_truncations_are_looked_up_by_table_id() -> None:
    ids = {"customers": uuid.UUID("27b977e0-ec6e-11f1-9a3b-435c731ca118"),
           "orders": uuid.UUID("283a8ec0-ec6e-11f1-9a3b-435c731ca118")}
    when = writetimes.truncations(ids, {uuid.UUID("27b977e0-ec6e-11f1-9a3b-435c731ca118"): BLOB})
    assert when == {"customers": pytest.approx(1796009303.640), "orders": None}
    assert writetimes.truncations(ids, None) == {"customers": None, "orders": None}


def test_a_loss_needs_every_table_truncated_after_the_record_and_not_in_the_future() -> None:
    at = 1796009303.640
    both = {"customers": at, "orders": at}
    assert writetimes.loss_problem(both, at - 60, "step 7 recorded the rows", now=at + 1) is None
    never = writetimes.loss_problem({"customers": at, "orders": None}, at - 60, "x", now=at + 1)
    assert never == "training.orders was never truncated: nothing was lost, so there is nothing to restore yet"
    early = writetimes.loss_problem(both, at + 60, "step 7 recorded the rows you backed up", now=at + 120)
    assert early == ("training.customers was last truncated at 2026-11-30 03:28:23.640000 UTC, before step 7 "
                     "recorded the rows you backed up: lose the data (step 8) first, then restore")
    assert "in the future" in (writetimes.loss_problem(both, 0, "x", now=at - 60) or "")
