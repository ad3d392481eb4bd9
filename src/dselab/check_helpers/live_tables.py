"""The training tables as a check reads them on a live cluster, and how they differ from an
expected state.

`read` takes every row of both tables with its write time, at consistency ALL: the newest cell of
any replica wins, so a node that still holds a row, a value or a tombstone shows it. `difference`
says, in the lab's words, the first way the rows differ from what they should hold; the lab says
where a wrong row comes from. `times_digest` is what a check keeps to know later that each row
still carries its write time: a SHA-256 over every key and write time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dselab import environment
from dselab.check_helpers import writetimes
from dselab.check_helpers.table_rows import Key, Row, Table, key, name
from dselab.errors import EnvironmentProblem
from dselab.runtime.base import Runtime

KS = environment.KEYSPACE
# A node that has just restarted serves CQL a moment before every other node sees it up again:
# a read at ALL is unavailable until then. How long a check waits for that, and how often it asks.
SETTLE_S, SETTLE_POLL_S = 30.0, 2.0
NOT_YET = ("Unavailable", "Cannot achieve consistency", "Unable to connect", "against any hosts")

Wrong = Literal["extra", "missing", "changed"]
# (table, key, how the row is wrong, the row as read or None) -> where that row comes from
Origin = Callable[[str, Key, Wrong, Row | None], str]


@dataclass(frozen=True)
class Live:
    """One table as read: key -> row values, and key -> the row's write time (microseconds)."""

    rows: Table
    times: dict[Key, int | None]


def read(runtime: Runtime) -> dict[str, Live]:
    """Both tables at consistency ALL, each row with its write time."""
    out = {}
    for table in environment.TABLES:
        rows, times = {}, {}
        for r in _read_all(runtime, writetimes.select_statement(table)):
            row = tuple(r[c] for c in environment.COLUMNS[table])
            k = key(table, row)
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


def difference(expected: Mapping[str, Table], live: Mapping[str, Live], state: str, origin: Origin,
               tables: tuple[str, ...] = environment.TABLES) -> str | None:
    """The first way `live` differs from `expected` (named `state`, e.g. "after batch A"), with
    where the wrong row comes from; None when every row of `tables` is as expected."""
    for table in tables:
        want, got = expected[table], live[table].rows
        extra = sorted(got.keys() - want.keys())
        missing = sorted(want.keys() - got.keys())
        changed = sorted(k for k in want.keys() & got.keys() if want[k] != got[k])
        if extra:
            k = extra[0]
            return (f"{KS}.{table} holds {len(extra)} rows it should not hold {state} "
                    f"(e.g. {name(table, k)}: {origin(table, k, 'extra', got[k])})")
        if missing:
            k = missing[0]
            return (f"{KS}.{table} lacks {len(missing)} rows it holds {state} "
                    f"(e.g. {name(table, k)}: {origin(table, k, 'missing', None)})")
        if changed:
            k = changed[0]
            return (f"{len(changed)} rows of {KS}.{table} differ from their values {state} "
                    f"(e.g. {name(table, k)}: {origin(table, k, 'changed', got[k])})")
    return None


def times_digest(live: Live) -> str:
    return writetimes.group_times(live.times.items()).sha256
