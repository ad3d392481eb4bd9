"""Lab 05b's two batches of writes, as data: what the student's CQL files hold and what each table
must hold after each of them (the environment's rows, then batch A, then batch B).

Batch A is the morning's good work: 20 new customers with their orders, and 10 customers who
moved. Batch B is the bad deploy that follows: it overwrites rows of A and of the environment,
deletes customers (some from A), and inserts junk. Every write is a whole row (all columns), so a
row's WRITETIME is that of its last write. The data files in labs/05b-point-in-time/data/ are
these statements (a unit test keeps them equal); the checks compare the live tables with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from dselab import environment
from dselab.check_helpers.table_rows import (
    Key,
    Row,
    Table,
    apply,
    delete_partitions,
    deletes,
    environment_tables,
    inserts,
    key,
)

A_NEW = range(5000, 5020)  # new customers, two orders each
A_MOVED = range(0, 10)  # customers of the environment who moved
B_BROKEN_A = range(5000, 5010)  # A's new customers, overwritten
B_BROKEN = range(10, 20)  # customers of the environment, overwritten
B_BROKEN_ORDERS = range(0, 5)  # orders of the environment, overwritten
B_DELETED = range(20, 30)  # customers of the environment, deleted with their orders
B_DELETED_A = range(5010, 5015)  # A's new customers, deleted with their orders
B_JUNK = range(6000, 6010)  # customers that should never exist


def _customer(i: int, city: str | None = None) -> Row:
    base = next(environment.customer_rows(i, 1))
    return base if city is None else (*base[:3], city, base[4])


def _broken(i: int) -> Row:
    return (i, "BROKEN", "", "nowhere", 0)


def batch_a() -> dict[str, list[Row]]:
    """Batch A's rows per table (whole rows: inserts and overwrites alike)."""
    return {"customers": [_customer(i) for i in A_NEW] + [_customer(i, "Porto") for i in A_MOVED],
            "orders": list(environment.order_rows(A_NEW.start, len(A_NEW)))}


def batch_b() -> tuple[dict[str, list[Row]], list[int]]:
    """Batch B's whole-row writes per table, and the customers it deletes (row and orders)."""
    orders = [(i, j, "broken", 0, Decimal(0)) for i in B_BROKEN_ORDERS for j in range(environment.ORDERS_PER_CUSTOMER)]
    customers = [_broken(i) for i in (*B_BROKEN_A, *B_BROKEN, *B_JUNK)]
    return {"customers": customers, "orders": orders}, [*B_DELETED, *B_DELETED_A]


def after_a() -> dict[str, Table]:
    """What the tables hold after batch A: the state a restore to the noted time brings back."""
    tables = environment_tables()
    apply(tables, batch_a())
    return tables


def after_b() -> dict[str, Table]:
    tables = after_a()
    writes, deleted = batch_b()
    apply(tables, writes)
    for table in tables.values():
        delete_partitions(table, deleted)
    return tables


def a_keys() -> dict[str, set[Key]]:
    return {t: {key(t, r) for r in rows} for t, rows in batch_a().items()}


# -- the CQL files -------------------------------------------------------------------------------

def batch_a_cql() -> str:
    """labs/05b-point-in-time/data/batch-a.cql."""
    lines = ["-- batch A: the morning's good writes (new customers with their orders, customers who moved)",
             *inserts(batch_a())]
    return "\n".join(lines) + "\n"


def _deletes(customers: list[int]) -> Iterator[str]:
    """Each customer's row, then its orders."""
    for i in customers:
        for table in ("customers", "orders"):
            yield from deletes(table, [i])


def batch_b_cql() -> str:
    """labs/05b-point-in-time/data/batch-b.cql."""
    writes, deleted = batch_b()
    lines = ["-- batch B: the bad deploy (overwrites rows of batch A and older rows, deletes customers,",
             "-- inserts junk): everything a point-in-time restore must take back",
             *inserts(writes), *_deletes(deleted)]
    return "\n".join(lines) + "\n"
