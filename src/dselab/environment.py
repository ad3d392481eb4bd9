"""Module 01, the environment every later lab builds on.

Keyspace `training` (replication factor 2) with two tables of deterministic data, loaded while
only dse-seed and dse-node-1 run. Then dse-node-2 bootstraps into the ring, so the two older
nodes hold data they no longer own: module 05's cleanup step has real work to do.

The fingerprint (row count + checksum per table) is what restore steps compare against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dselab.progress import Progress, Silent
from dselab.runtime.base import Runtime

KEYSPACE = "training"
CUSTOMERS = 4000
ORDERS_PER_CUSTOMER = 2  # orders: 8000 rows; 12,000 rows in all
NEW_CUSTOMERS = 50  # written in lab 05 after the snapshot: only the incremental files hold them
# Partitions per table (both are keyed by customer_id), the base of cleanup's ownership check.
PARTITIONS = {"customers": CUSTOMERS, "orders": CUSTOMERS}
CITIES = ("Lisbon", "Austin", "Osaka", "Nairobi", "Tallinn", "Recife", "Perth", "Lyon")
ITEMS = ("disk", "switch", "rack", "cable", "fan", "psu", "ssd", "nic")

SCHEMA = [
    f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = "
    "{'class': 'SimpleStrategy', 'replication_factor': 2}",
    f"""CREATE TABLE IF NOT EXISTS {KEYSPACE}.customers (
        customer_id int PRIMARY KEY, name text, email text, city text, signup_day int)""",
    f"""CREATE TABLE IF NOT EXISTS {KEYSPACE}.orders (
        customer_id int, order_id int, item text, quantity int, amount decimal,
        PRIMARY KEY (customer_id, order_id))""",
]
TABLES = ("customers", "orders")
# Columns in a fixed order: the checksum must not depend on the driver's column order.
COLUMNS = {
    "customers": ("customer_id", "name", "email", "city", "signup_day"),
    "orders": ("customer_id", "order_id", "item", "quantity", "amount"),
}


def customer_rows(start: int = 0, count: int = CUSTOMERS) -> Iterator[tuple[Any, ...]]:
    for i in range(start, start + count):
        yield (i, f"customer-{i:05d}", f"c{i:05d}@example.test", CITIES[i % len(CITIES)], 19000 + i % 365)


def order_rows(start: int = 0, count: int = CUSTOMERS) -> Iterator[tuple[Any, ...]]:
    for i in range(start, start + count):
        for j in range(ORDERS_PER_CUSTOMER):
            qty = 1 + (i * 7 + j) % 9
            yield (i, j, ITEMS[(i + j) % len(ITEMS)], qty, Decimal(qty * 1999 + i % 100) / 100)


def insert_rows(runtime: Runtime, table: str, rows: Iterable[tuple[Any, ...]], node: str | None = None) -> int:
    cols = COLUMNS[table]
    cql = f"INSERT INTO {KEYSPACE}.{table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    return runtime.cql_many(cql, list(rows), node=node)


def load(runtime: Runtime, progress: Progress | None = None) -> None:
    """Schema + data, then flush so the data sits in SSTables on both older nodes."""
    progress = progress or Silent()
    for statement in SCHEMA:
        runtime.cql(statement)
    progress.step("loading training.customers")
    insert_rows(runtime, "customers", customer_rows())
    progress.step("loading training.orders")
    insert_rows(runtime, "orders", order_rows())
    for node in ("dse-seed", "dse-node-1"):
        runtime.nodetool(node, ["flush", KEYSPACE])
    progress.done(f"loaded {CUSTOMERS + CUSTOMERS * ORDERS_PER_CUSTOMER} rows into {KEYSPACE}")


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "checksum": self.checksum}


def _canonical(value: Any) -> str:
    return "\\N" if value is None else str(value)


def digest_rows(rows: Iterable[tuple[Any, ...]]) -> TableFingerprint:
    lines = sorted("|".join(_canonical(v) for v in row) for row in rows)
    return TableFingerprint(rows=len(lines), checksum=hashlib.sha256("\n".join(lines).encode()).hexdigest())


def expected_fingerprint(with_new_rows: bool = False) -> dict[str, TableFingerprint]:
    """The fingerprint the data must have, computed from the generators, not from a cluster."""
    count = CUSTOMERS + (NEW_CUSTOMERS if with_new_rows else 0)
    return {"customers": digest_rows(customer_rows(0, count)), "orders": digest_rows(order_rows(0, count))}


def _cql_literal(value: Any) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)


def new_rows_cql() -> str:
    """The CQL file students load in lab 05 (labs/05-backup-restore/data/new-rows.cql)."""
    lines = ["-- rows written after the snapshot: only the incremental backup files hold them"]
    for table, rows in (("customers", customer_rows(CUSTOMERS, NEW_CUSTOMERS)),
                        ("orders", order_rows(CUSTOMERS, NEW_CUSTOMERS))):
        cols = ", ".join(COLUMNS[table])
        for row in rows:
            lines.append(f"INSERT INTO {KEYSPACE}.{table} ({cols}) VALUES ({', '.join(map(_cql_literal, row))});")
    return "\n".join(lines) + "\n"


def fingerprint(runtime: Runtime, node: str | None = None, keyspace: str = KEYSPACE,
                consistency: str = "ALL") -> dict[str, TableFingerprint]:
    """Row count and an order-independent SHA-256 per table, read at consistency ALL."""
    out = {}
    for table in TABLES:
        cols = COLUMNS[table]
        rows = runtime.cql(f"SELECT {', '.join(cols)} FROM {keyspace}.{table}", node=node,
                           consistency=consistency)
        out[table] = digest_rows(tuple(r[c] for c in cols) for r in rows)
    return out
