"""Lab 05c's day two: the CQL file students run is the statements the checks expect, and the
comparison says where a wrong row comes from (a whole-keyspace restore, a restore on top of the
migration), each with what to do."""

from __future__ import annotations

from pathlib import Path

from dselab.check_helpers import one_table
from dselab.check_helpers.live_tables import Live, difference
from dselab.check_helpers.table_rows import environment_tables

DATA = Path(__file__).resolve().parents[3] / "labs" / "05c-one-table" / "data"


def live(tables: dict) -> dict[str, Live]:
    return {t: Live(dict(rows), dict.fromkeys(rows, 1_000)) for t, rows in tables.items()}


def test_the_shipped_cql_file_is_day_two_as_the_checks_expect() -> None:
    assert (DATA / "day-two.cql").read_text() == one_table.day_two_cql()


def test_day_two_adds_customers_and_breaks_orders_and_the_restore_undoes_only_orders() -> None:
    env, two, back = environment_tables(), one_table.after_day_two(), one_table.restored()
    assert len(two["customers"]) == len(env["customers"]) + 30 and (7029,) in two["customers"]
    assert two["orders"][(3, 1)][4] == 0 and env["orders"][(3, 1)][4] != 0
    assert (45, 0) in env["orders"] and (45, 0) not in two["orders"]
    assert back["orders"] == env["orders"] and back["customers"] == two["customers"]


def test_a_whole_keyspace_restore_is_told_it_lost_the_sign_ups() -> None:
    message = difference(one_table.restored(), live(environment_tables()), "after restoring orders alone",
                         one_table.origin)
    assert message is not None and message.startswith("training.customers lacks 30 rows")
    assert "customer 7000: signed up on day two, after the snapshot: restore orders only" in message


def test_a_restore_on_top_of_the_migration_is_told_to_truncate_first() -> None:
    after = one_table.after_day_two()
    message = difference(one_table.restored(), live(after), "after restoring orders alone", one_table.origin)
    assert message is not None and "order 40/0: the migration deleted it" in message
    assert "truncate orders before loading the snapshot" in message
    after["orders"].update((k, r) for k, r in environment_tables()["orders"].items() if k[0] in one_table.DROPPED)
    message = difference(one_table.restored(), live(after), "after restoring orders alone", one_table.origin)
    assert message is not None and message.startswith("80 rows of training.orders differ")
    assert "order 0/0: it holds the migration's price of 0" in message


def test_day_two_not_written_yet_is_named() -> None:
    message = difference(one_table.after_day_two(), live(environment_tables()), "after day two",
                         one_table.day_two_origin)
    assert message is not None and "customer 7000: a sign-up of day two, not written yet" in message
