"""Lab 05b's tables as the checks read them, compared with what batches A and B leave.

`read` takes every row of both training tables with its write time; `difference` says, in the
lab's words, the first way the rows differ from an expected state (which batch a wrong row comes
from); `time_record` is the small fact step 2 keeps: a SHA-256 over every row's key and write
time, so a later check knows each row carries the write time it had before the bad deploy.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dselab import environment
from dselab.check_helpers import pitr_batches as batches
from dselab.check_helpers import writetimes
from dselab.check_helpers.pitr_batches import Key, Row, Table
from dselab.errors import EnvironmentProblem
from dselab.runtime.base import Runtime

KS = environment.KEYSPACE
# A node that has just restarted serves CQL a moment before every other node sees it up again:
# a read at ALL is unavailable until then. How long a check waits for that, and how often it asks.
SETTLE_S, SETTLE_POLL_S = 30.0, 2.0
NOT_YET = ("Unavailable", "Cannot achieve consistency", "Unable to connect", "against any hosts")


@dataclass(frozen=True)
class Live:
    """One table as read: key -> row values, and key -> the row's write time (microseconds)."""

    rows: Table
    times: dict[Key, int | None]


def read(runtime: Runtime) -> dict[str, Live]:
    """Both tables at consistency ALL: the newest cell of any replica wins, so a node that still
    holds a row, a value or a tombstone of batch B shows it here."""
    out = {}
    for table in environment.TABLES:
        rows, times = {}, {}
        for r in _read_all(runtime, writetimes.select_statement(table)):
            row = tuple(r[c] for c in environment.COLUMNS[table])
            k = batches.key(table, row)
            rows[k], times[k] = row, r["written_at"]
        out[table] = Live(rows, times)
    return out


def _read_all(runtime: Runtime, statement: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + SETTLE_S
    while True:
        try:
            return runtime.cql(statement, consistency="ALL")
        except EnvironmentProblem as err:
            if time.monotonic() > deadline or not any(word in err.message for word in NOT_YET):
                raise
            time.sleep(SETTLE_POLL_S)


def _name(table: str, k: Key) -> str:
    return f"customer {k[0]}" if table == "customers" else f"order {k[0]}/{k[1]}"


def _origin_of_extra(table: str, k: Key) -> str:
    writes, deleted = batches.batch_b()
    if any(batches.key(table, r) == k for r in writes[table]):
        return "the bad deploy (batch B) wrote it"
    if k[0] in deleted:
        return "the bad deploy (batch B) deletes it"
    if k in batches.a_keys()[table]:
        return "batch A wrote it"
    return "no batch of this lab wrote it"


def _origin_of_missing(table: str, k: Key) -> str:
    _, deleted = batches.batch_b()
    if k[0] in deleted:
        return "the bad deploy (batch B) deleted it"
    if k in batches.a_keys()[table]:
        return "batch A wrote it"
    return "it was there when the lab started"


def _origin_of_change(table: str, k: Key, row: Row) -> str:
    writes, _ = batches.batch_b()
    if row in writes[table]:
        return "it holds the bad deploy's (batch B's) values"
    if row in batches.batch_a()[table]:
        return "it holds batch A's values"
    return "it holds values no batch of this lab wrote"


def difference(expected: Mapping[str, Table], live: Mapping[str, Live], state: str) -> str | None:
    """The first way `live` differs from `expected` (named `state`, e.g. "as batch A left
    them"), with where the wrong row comes from; None when every row is as expected."""
    for table in environment.TABLES:
        want, got = expected[table], live[table].rows
        extra = sorted(got.keys() - want.keys())
        missing = sorted(want.keys() - got.keys())
        changed = sorted(k for k in want.keys() & got.keys() if want[k] != got[k])
        if extra:
            k = extra[0]
            return (f"{KS}.{table} holds {len(extra)} rows it should not hold {state} "
                    f"(e.g. {_name(table, k)}: {_origin_of_extra(table, k)})")
        if missing:
            k = missing[0]
            return (f"{KS}.{table} lacks {len(missing)} rows it holds {state} "
                    f"(e.g. {_name(table, k)}: {_origin_of_missing(table, k)})")
        if changed:
            k = changed[0]
            return (f"{len(changed)} rows of {KS}.{table} differ from their values {state} "
                    f"(e.g. {_name(table, k)}: {_origin_of_change(table, k, got[k])})")
    return None


def _times_digest(live: Live) -> str:
    lines = sorted(f"{writetimes.key_text(k)}|{'' if t is None else t}" for k, t in live.times.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def a_times(live: Mapping[str, Live]) -> list[int]:
    """The write times of batch A's rows."""
    return [t for table, keys in batches.a_keys().items() for k in keys
            if (t := live[table].times.get(k)) is not None]


def b_times(live: Mapping[str, Live]) -> list[int]:
    """The write times of the rows batch B wrote (its deletes leave no row to read)."""
    writes, _ = batches.batch_b()
    return [t for table, rows in writes.items() for r in rows
            if (t := live[table].times.get(batches.key(table, r))) is not None]


def time_record(live: Mapping[str, Live]) -> dict[str, Any]:
    """Step 2's fact: per table the row count and a digest of every (key, write time); batch A's
    first and last write time; a few of its rows' times, to name one in a message."""
    times = a_times(live)
    sample = {f"{t}:{writetimes.key_text(k)}": live[t].times.get(k)
              for t in environment.TABLES for k in sorted(batches.a_keys()[t])[:2]}
    return {"tables": {t: {"rows": len(v.times), "sha256": _times_digest(v)} for t, v in live.items()},
            "a_first": min(times), "a_last": max(times), "sample": sample}


def time_problem(record: Mapping[str, Any], live: Mapping[str, Live]) -> str | None:
    """Why the rows do not carry the write times step 2 recorded, or None."""
    last = int(record["a_last"])
    for table in environment.TABLES:
        late = sorted(k for k, t in live[table].times.items() if t is not None and t > last)
        if late:
            k = late[0]
            return (f"{len(late)} rows of {KS}.{table} were written after the noted time (e.g. {_name(table, k)} "
                    f"at {writetimes.when_text(live[table].times[k])}, batch A's last write was "
                    f"{writetimes.when_text(last)}): written again or replayed past the point, not restored to it")
        if record["tables"][table]["sha256"] != _times_digest(live[table]):
            return (f"the rows of {KS}.{table} carry other write times than step 2 recorded before the bad deploy: "
                    "a row written again keeps its values but not its write time; a restore keeps both")
    return None
