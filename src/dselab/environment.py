"""Module 01, the environment every later lab builds on.

Keyspace `training` (replication factor 2) with two tables of deterministic data, loaded while
only dse-seed and dse-node-1 run. Then dse-node-2 bootstraps into the ring, so the two older
nodes hold data they no longer own: module 05's cleanup step has real work to do.

The fingerprint (row count + checksum per table) is what restore steps compare against.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
    return runtime.cql_many(_insert_cql(table), list(rows), node=node)


# Customers per write of the load: a customer's row and its orders share the partition key
# (customer_id), so one unlogged batch of BATCH_CUSTOMERS customers is BATCH_CUSTOMERS mutations,
# sent as one request. 10 is the most Cassandra takes silently
# (unlogged_batch_across_partitions_warn_threshold; the batch is ~1.6 KiB, under the 5 KiB
# batch_size_warn_threshold). Measured on the 2-core machine, warm cluster, 12,000 rows at
# consistency ALL: 33.6 s one row per request, 12.3 s one customer per batch, 2.6 s ten.
BATCH_CUSTOMERS = 10


def _insert_cql(table: str) -> str:
    cols = COLUMNS[table]
    return f"INSERT INTO {KEYSPACE}.{table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def batch_cql(customers: int) -> str:
    """One unlogged batch: per customer its row, then its orders (bind markers only)."""
    one = [_insert_cql("customers"), *[_insert_cql("orders")] * ORDERS_PER_CUSTOMER]
    return "BEGIN UNLOGGED BATCH\n" + "".join(f"{s};\n" for s in one * customers) + "APPLY BATCH"


def customer_batches(start: int = 0, count: int = CUSTOMERS,
                     per: int = BATCH_CUSTOMERS) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(customers in the batch, its bind values in batch_cql's order) for customers start.."""
    for first in range(start, start + count, per):
        size = min(per, start + count - first)
        values: list[Any] = []
        orders = order_rows(first, size)
        for customer in customer_rows(first, size):
            values += customer
            for _ in range(ORDERS_PER_CUSTOMER):
                values += next(orders)
        yield size, tuple(values)


def load_rows(runtime: Runtime, start: int = 0, count: int = CUSTOMERS) -> int:
    """Customers start.. and their orders, in batches at consistency ALL; the rows written."""
    by_size: dict[int, list[tuple[Any, ...]]] = {}
    for size, values in customer_batches(start, count):
        by_size.setdefault(size, []).append(values)
    customers = sum(runtime.cql_many(batch_cql(size), rows) * size for size, rows in by_size.items())
    return customers * (1 + ORDERS_PER_CUSTOMER)


def flush(runtime: Runtime, nodes: Iterable[str] = ("dse-seed", "dse-node-1")) -> None:
    """`nodetool flush training` on the nodes at once (a nodetool is a JVM start: about a second)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda node: runtime.nodetool(node, ["flush", KEYSPACE]), nodes))


def load(runtime: Runtime, progress: Progress | None = None) -> None:
    """Schema + data, then flush so the data sits in SSTables on both older nodes."""
    progress = progress or Silent()
    for statement in SCHEMA:
        runtime.cql(statement)
    progress.step("loading training.customers and training.orders")
    rows = load_rows(runtime)
    flush(runtime)
    progress.done(f"loaded {rows} rows into {KEYSPACE}")


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
    return dict(_expected(with_new_rows))


@functools.cache
def _expected(with_new_rows: bool) -> tuple[tuple[str, TableFingerprint], ...]:
    """Computed once per process (a restore check asked for it on every Check: 15 ms of 12,150 rows)."""
    count = CUSTOMERS + (NEW_CUSTOMERS if with_new_rows else 0)
    return (("customers", digest_rows(customer_rows(0, count))), ("orders", digest_rows(order_rows(0, count))))


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


def write_again(runtime: Runtime, progress: Progress | None = None) -> bool:
    """The training tables hold exactly the environment's rows again, unless they do already (read
    at ALL): for a lab that starts from them after one that changed them. True: written again."""
    if fingerprint(runtime) == expected_fingerprint():
        return False
    progress = progress or Silent()
    progress.step(f"{KEYSPACE} holds what an earlier lab left: writing the environment's rows again")
    for table in TABLES:
        runtime.cql(f"TRUNCATE {KEYSPACE}.{table}")
    rows = load_rows(runtime)
    progress.done(f"{KEYSPACE} holds the environment's {rows} rows again")
    return True
