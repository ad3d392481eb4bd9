"""The training tables as data: rows keyed by primary key, the environment's rows, writes applied
on top, and the CQL a lab's data file holds for them. Labs 05b and 05c describe their writes with
these; their unit tests keep each data file equal to the statements made here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from dselab import environment
from dselab.environment import COLUMNS, KEYSPACE

Row = tuple[Any, ...]
Key = tuple[Any, ...]
Table = dict[Key, Row]  # primary key -> the row's values in COLUMNS order
KEY_WIDTH = {"customers": 1, "orders": 2}


def key(table: str, row: Row) -> Key:
    return tuple(row[:KEY_WIDTH[table]])


def environment_tables() -> dict[str, Table]:
    return {"customers": {key("customers", r): r for r in environment.customer_rows()},
            "orders": {key("orders", r): r for r in environment.order_rows()}}


def apply(tables: dict[str, Table], writes: Mapping[str, Iterable[Row]]) -> None:
    """Whole-row writes (inserts and overwrites alike) applied to `tables`, in place."""
    for table, rows in writes.items():
        tables[table].update((key(table, r), r) for r in rows)


def delete_partitions(table: Table, customers: Iterable[int]) -> None:
    """Every row of these customers (the partition key) gone from `table`, in place."""
    gone = set(customers)
    for k in [k for k in table if k[0] in gone]:
        del table[k]


def name(table: str, k: Key) -> str:
    """A row as a message names it."""
    return f"customer {k[0]}" if table == "customers" else f"order {k[0]}/{k[1]}"


def _literal(value: Any) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)


def inserts(writes: Mapping[str, Iterable[Row]]) -> Iterator[str]:
    for table, rows in writes.items():
        cols = ", ".join(COLUMNS[table])
        for row in rows:
            yield f"INSERT INTO {KEYSPACE}.{table} ({cols}) VALUES ({', '.join(map(_literal, row))});"


def deletes(table: str, customers: Iterable[int]) -> Iterator[str]:
    for i in customers:
        yield f"DELETE FROM {KEYSPACE}.{table} WHERE customer_id = {i};"
