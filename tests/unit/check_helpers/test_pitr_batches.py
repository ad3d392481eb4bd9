"""Lab 05b's batches: the CQL files students run are the statements the checks expect, and the
comparison names which batch a wrong row comes from (a restore that left the bad deploy, or lost
batch A, is told as such)."""

from __future__ import annotations

from pathlib import Path

from dselab.check_helpers import pitr_batches as batches
from dselab.check_helpers.live_tables import Live
from dselab.check_helpers.pitr_tables import difference, time_problem, time_record
from dselab.check_helpers.table_rows import environment_tables

DATA = Path(__file__).resolve().parents[3] / "labs" / "05b-point-in-time" / "data"


def test_the_shipped_cql_files_are_the_batches_the_checks_expect():
    assert (DATA / "batch-a.cql").read_text() == batches.batch_a_cql()
    assert (DATA / "batch-b.cql").read_text() == batches.batch_b_cql()


def test_batch_b_overwrites_deletes_and_inserts_what_a_and_the_environment_wrote():
    a, b = batches.after_a(), batches.after_b()
    assert b["customers"][(5000,)][1] == "BROKEN" and a["customers"][(5000,)][1] == "customer-05000"
    assert a["customers"][(3,)][3] == "Porto"  # moved in batch A
    assert (20,) in a["customers"] and (20,) not in b["customers"] and (20, 0) not in b["orders"]
    assert (5012,) in a["customers"] and (5012,) not in b["customers"]
    assert (6000,) in b["customers"] and (6000,) not in a["customers"]
    assert b["orders"][(1, 1)][2] == "broken"


def live(tables: dict, time_of=lambda k: 1_000) -> dict[str, Live]:
    return {t: Live(dict(rows), {k: time_of(k) for k in rows}) for t, rows in tables.items()}


def test_a_restore_that_kept_the_bad_deploy_is_named_so():
    message = difference(batches.after_a(), live(batches.after_b()), "at the noted time")
    assert message is not None and "customer 6000: the bad deploy (batch B) wrote it" in message


def test_a_restore_without_replay_lacks_batch_a():
    message = difference(batches.after_a(), live(environment_tables()), "at the noted time")
    assert message is not None and "lacks 20 rows" in message and "customer 5000: batch A wrote it" in message


def test_a_deleted_row_left_deleted_is_named():
    tables = batches.after_a()
    del tables["customers"][(20,)]
    message = difference(batches.after_a(), live(tables), "at the noted time")
    assert message is not None and "customer 20: the bad deploy (batch B) deleted it" in message


def test_rows_as_batch_a_left_them_differ_in_nothing():
    assert difference(batches.after_a(), live(batches.after_a()), "at the noted time") is None


def test_write_times_must_be_the_recorded_ones_and_none_after_batch_a():
    a_keys = batches.a_keys()
    times = lambda k: 2_000_000 if any(k in keys for keys in a_keys.values()) else 1_000  # noqa: E731
    record = time_record(live(batches.after_a(), times))
    assert record["a_first"] == record["a_last"] == 2_000_000
    assert time_problem(record, live(batches.after_a(), times)) is None
    late = time_problem(record, live(batches.after_a(), lambda k: 9_000_000 if k == (7,) else times(k)))
    assert late is not None and "written after the noted time (e.g. customer 7" in late
    rewritten = time_problem(record, live(batches.after_a(), lambda k: 1_500 if k == (7,) else times(k)))
    assert rewritten is not None and "other write times than step 2 recorded" in rewritten
