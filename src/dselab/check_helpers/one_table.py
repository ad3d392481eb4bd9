"""Lab 05c's day two, as data: what the student's CQL file holds and what each table must hold
after it and after the restore of one table.

Day two brings 30 customers who sign up (rows only `customers` holds, written after the nightly
snapshot: a restore must keep them) and a bad migration of `orders`: it overwrites the orders of
40 customers with a price of 0 and deletes the orders of 10 more. Restoring `orders` alone from the
snapshot takes the migration back and leaves the sign-ups. Every write is a whole row, so a row's
WRITETIME is that of its last write. labs/05c-one-table/data/day-two.cql is these statements (a
unit test keeps them equal).
"""

from __future__ import annotations

from decimal import Decimal

from dselab import environment
from dselab.check_helpers import table_rows
from dselab.check_helpers.live_tables import Wrong
from dselab.check_helpers.table_rows import Key, Row, Table

SIGNUPS = range(7000, 7030)  # new customers of day two: only `customers` holds them
REPRICED = range(0, 40)  # customers whose orders the migration overwrites with a price of 0
DROPPED = range(40, 50)  # customers whose orders the migration deletes
TABLE = "orders"  # the table restored; the other one keeps day two's rows


def signups() -> list[Row]:
    return list(environment.customer_rows(SIGNUPS.start, len(SIGNUPS)))


def repriced() -> list[Row]:
    return [(*row[:4], Decimal(0)) for row in environment.order_rows(REPRICED.start, len(REPRICED))]


def after_day_two() -> dict[str, Table]:
    tables = table_rows.environment_tables()
    table_rows.apply(tables, {"customers": signups(), "orders": repriced()})
    table_rows.delete_partitions(tables["orders"], DROPPED)
    return tables


def restored() -> dict[str, Table]:
    """`orders` as the snapshot holds it, `customers` as day two left it."""
    return {"customers": after_day_two()["customers"], TABLE: table_rows.environment_tables()[TABLE]}


def origin(table: str, k: Key, wrong: Wrong, row: Row | None) -> str:
    """Where a row that is wrong after the restore comes from, with what to do about it."""
    if table == "customers" and wrong == "missing" and k[0] in SIGNUPS:
        return "signed up on day two, after the snapshot: restore orders only, customers keeps its rows"
    if table == TABLE and wrong == "missing" and k[0] in DROPPED:
        return ("the migration deleted it, and its tombstone is newer than the snapshot's row: "
                "truncate orders before loading the snapshot")
    if table == TABLE and wrong == "changed" and row in repriced():
        return ("it holds the migration's price of 0, newer than the snapshot's: "
                "truncate orders before loading the snapshot")
    if wrong == "missing":
        return "it was in the snapshot"
    return "no write of this lab made it"


def day_two_origin(table: str, k: Key, wrong: Wrong, row: Row | None) -> str:
    """Where a row that is wrong after day two comes from."""
    if table == "customers" and wrong == "missing" and k[0] in SIGNUPS:
        return "a sign-up of day two, not written yet"
    if table == TABLE and wrong == "changed" and k[0] in REPRICED:
        return "the migration has not repriced it yet"
    if table == TABLE and wrong == "extra" and k[0] in DROPPED:
        return "the migration has not deleted it yet"
    return "no write of this lab made it"


def day_two_cql() -> str:
    """labs/05c-one-table/data/day-two.cql."""
    lines = ["-- day two: customers who sign up (kept by the restore) ...",
             *table_rows.inserts({"customers": signups()}),
             "-- ... and a bad migration of orders: a price of 0, orders deleted (undone by the restore)",
             *table_rows.inserts({"orders": repriced()}), *table_rows.deletes("orders", DROPPED)]
    return "\n".join(lines) + "\n"
