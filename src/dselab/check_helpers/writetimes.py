"""What Cassandra keeps about when rows were written and when tables were truncated.

Every cell carries its write timestamp (microseconds), and SSTables keep it: rows put back by
`nodetool refresh`/`import`, by an offline copy, or streamed by sstableloader keep the write
times they had when they were backed up. Rows inserted again (cqlsh, a script, the dselab data
generator) get new ones. `TRUNCATE` leaves a record in `system.local` (`truncated_at`, a map from
table id to a blob that ends with the truncation time in milliseconds; 3.11 and 5.0 alike).

So a restore check compares the rows' write times with the ones recorded before the loss, and
wants a truncation between that record and the check. What that proves: the rows came back
from files that held them before the loss, after a loss. What it cannot prove: a student who
read every row's WRITETIME before the loss and re-inserts each row `USING TIMESTAMP` with its
original time produces the same cells, and passes. That takes a script written on purpose.

Pure logic here; the lab's checks run the queries.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dselab import environment

# A non-key column per table whose WRITETIME is the row's (every column is written together).
WRITETIME_COLUMN = {"customers": "name", "orders": "item"}
KEY_COLUMNS = {"customers": ("customer_id",), "orders": ("customer_id", "order_id")}
# The rows the full backup holds (written by the environment) and the ones only backups/ holds.
SNAPSHOT, INCREMENTAL = "snapshot", "incremental"
GROUP_WORDS = {SNAPSHOT: "rows of the snapshot", INCREMENTAL: "rows only backups/ held (written in step 7)"}
# A few rows per table and group whose exact write time is kept, to name one in a message.
SAMPLE_CUSTOMERS = (0, 1337, 2718, environment.CUSTOMERS - 1,
                    environment.CUSTOMERS, environment.CUSTOMERS + environment.NEW_CUSTOMERS - 1)
FACT_LIMIT = 4096  # bytes: facts cross from the classroom's observer to the server's store
CLOCK_SKEW_S = 5.0  # node clock vs. this machine's (one host, or containers on it)

Key = tuple[Any, ...]


def select_statement(table: str, keyspace: str = environment.KEYSPACE) -> str:
    """Every column of the fingerprint, and the row's write time, in one read."""
    cols = ", ".join(environment.COLUMNS[table])
    return f"SELECT {cols}, WRITETIME({WRITETIME_COLUMN[table]}) AS written_at FROM {keyspace}.{table}"


def key_of(table: str, row: Mapping[str, Any]) -> Key:
    return tuple(row[c] for c in KEY_COLUMNS[table])


def key_text(key: Key) -> str:
    return "/".join(str(part) for part in key)


def group_of(key: Key) -> str:
    return SNAPSHOT if int(key[0]) < environment.CUSTOMERS else INCREMENTAL


@dataclass(frozen=True)
class GroupTimes:
    """The write times of one group of rows: how many, and a SHA-256 over every (key, time)."""

    rows: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def group_times(pairs: Iterable[tuple[Key, int | None]]) -> GroupTimes:
    lines = sorted(f"{key_text(k)}|{'' if t is None else t}" for k, t in pairs)
    return GroupTimes(len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())


def table_times(table: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What is recorded for one table: per group the row count and digest, and the sampled rows."""
    pairs = [(key_of(table, r), r["written_at"]) for r in rows]
    groups = {g: group_times((k, t) for k, t in pairs if group_of(k) == g) for g in (SNAPSHOT, INCREMENTAL)}
    sample = {key_text(k): t for k, t in pairs if int(k[0]) in SAMPLE_CUSTOMERS}
    return {**{g: v.to_dict() for g, v in groups.items()}, "sample": dict(sorted(sample.items()))}


def fact(times: Mapping[str, Mapping[str, Any]], now: float | None = None) -> dict[str, Any]:
    """The small fact a passing step 7 stores; raises if it would not fit the fact limit."""
    value = {"recorded_at": time.time() if now is None else now, "tables": dict(times)}
    if len(json.dumps(value)) > FACT_LIMIT:
        raise ValueError("the write-time fact outgrew its limit")
    return value


def when_text(micros: int | None) -> str:
    if micros is None:
        return "no write time"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(micros / 1e6)) + f".{micros % 1_000_000:06d} UTC"


def _sample_change(table: str, recorded: Mapping[str, Any], actual: Mapping[str, Any], group: str) -> str:
    noun = "customer" if table == "customers" else "order"
    for key, then in recorded.get("sample", {}).items():
        now = actual.get("sample", {}).get(key)
        if group_of(tuple(key.split("/"))) == group and now != then:
            return f" (e.g. {noun} {key}: written {when_text(then)} before the loss, {when_text(now)} now)"
    return ""


def write_time_problem(table: str, recorded: Mapping[str, Any], actual: Mapping[str, Any],
                       label: str = "") -> str | None:
    """Why the table's rows are not the ones recorded before the loss (other write times)."""
    for group in (SNAPSHOT, INCREMENTAL):
        if recorded[group]["sha256"] != actual[group]["sha256"]:
            return (f"{label}{environment.KEYSPACE}.{table}: the {recorded[group]['rows']} {GROUP_WORDS[group]} "
                    f"carry other write times than step 7 recorded before the loss"
                    f"{_sample_change(table, recorded, actual, group)}: they were written again, not "
                    "restored from the backup files (restored rows keep their original write times)")
    return None


def written_after(rows: Iterable[Mapping[str, Any]], moment: float) -> list[Mapping[str, Any]]:
    """Rows whose write time is later than `moment` (epoch seconds)."""
    limit = int(moment * 1_000_000)
    return [r for r in rows if r["written_at"] is not None and r["written_at"] > limit]


# -- the truncation record -----------------------------------------------------------------------

def truncated_at(blob: bytes | None) -> float | None:
    """Epoch seconds from one truncated_at value: a commit log position (segment id, 8 bytes;
    position, 4 bytes) and then the truncation time in milliseconds (8 bytes, big-endian)."""
    if not blob or len(blob) < 20:
        return None
    (millis,) = struct.unpack(">q", bytes(blob[-8:]))
    return millis / 1000 if millis > 0 else None


def truncations(table_ids: Mapping[str, Any], record: Mapping[Any, bytes] | None) -> dict[str, float | None]:
    """Table name -> when it was last truncated (None: no record), from system.local's map."""
    by_id = {str(k): v for k, v in (record or {}).items()}
    return {table: truncated_at(by_id.get(str(table_id))) for table, table_id in table_ids.items()}


def loss_problem(when: Mapping[str, float | None], after: float, after_what: str,
                 now: float | None = None) -> str | None:
    """Why the record shows no loss of every table after `after` and before now, or None."""
    now = time.time() if now is None else now
    for table, at in when.items():
        name = f"{environment.KEYSPACE}.{table}"
        if at is None:
            return f"{name} was never truncated: nothing was lost, so there is nothing to restore yet"
        if at <= after:
            return (f"{name} was last truncated at {when_text(int(at * 1e6))}, before {after_what}: "
                    "lose the data (step 8) first, then restore")
        if at > now + CLOCK_SKEW_S:
            return f"{name} has a truncation record in the future ({when_text(int(at * 1e6))})"
    return None
