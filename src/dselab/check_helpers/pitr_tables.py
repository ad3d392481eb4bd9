"""Lab 05b's tables as the checks read them (live_tables), compared with what batches A and B leave.

`difference` says which batch a wrong row comes from; `time_record` is the small fact step 2
keeps: a SHA-256 over every row's key and write time, so a later check knows each row carries the
write time it had before the bad deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dselab import environment
from dselab.check_helpers import live_tables, writetimes
from dselab.check_helpers import pitr_batches as batches
from dselab.check_helpers.live_tables import Live, Wrong, times_digest
from dselab.check_helpers.table_rows import Key, Row, Table, key, name

KS = environment.KEYSPACE


def _origin_of_extra(table: str, k: Key) -> str:
    writes, deleted = batches.batch_b()
    if any(key(table, r) == k for r in writes[table]):
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


def _origin(table: str, k: Key, wrong: Wrong, row: Row | None) -> str:
    if wrong == "extra":
        return _origin_of_extra(table, k)
    if wrong == "missing":
        return _origin_of_missing(table, k)
    assert row is not None
    return _origin_of_change(table, k, row)


def difference(expected: Mapping[str, Table], live: Mapping[str, Live], state: str) -> str | None:
    """The first way `live` differs from `expected` (named `state`, e.g. "as batch A left
    them"), with where the wrong row comes from; None when every row is as expected."""
    return live_tables.difference(expected, live, state, _origin)


def a_times(live: Mapping[str, Live]) -> list[int]:
    """The write times of batch A's rows."""
    return [t for table, keys in batches.a_keys().items() for k in keys
            if (t := live[table].times.get(k)) is not None]


def b_times(live: Mapping[str, Live]) -> list[int]:
    """The write times of the rows batch B wrote (its deletes leave no row to read)."""
    writes, _ = batches.batch_b()
    return [t for table, rows in writes.items() for r in rows
            if (t := live[table].times.get(key(table, r))) is not None]


def time_record(live: Mapping[str, Live]) -> dict[str, Any]:
    """Step 2's fact: per table the row count and a digest of every (key, write time); batch A's
    first and last write time; a few of its rows' times, to name one in a message."""
    times = a_times(live)
    sample = {f"{t}:{writetimes.key_text(k)}": live[t].times.get(k)
              for t in environment.TABLES for k in sorted(batches.a_keys()[t])[:2]}
    return {"tables": {t: {"rows": len(v.times), "sha256": times_digest(v)} for t, v in live.items()},
            "a_first": min(times), "a_last": max(times), "sample": sample}


def time_problem(record: Mapping[str, Any], live: Mapping[str, Live]) -> str | None:
    """Why the rows do not carry the write times step 2 recorded, or None."""
    last = int(record["a_last"])
    for table in environment.TABLES:
        late = sorted(k for k, t in live[table].times.items() if t is not None and t > last)
        if late:
            k = late[0]
            return (f"{len(late)} rows of {KS}.{table} were written after the noted time (e.g. {name(table, k)} "
                    f"at {writetimes.when_text(live[table].times[k])}, batch A's last write was "
                    f"{writetimes.when_text(last)}): written again or replayed past the point, not restored to it")
        if record["tables"][table]["sha256"] != times_digest(live[table]):
            return (f"the rows of {KS}.{table} carry other write times than step 2 recorded before the bad deploy: "
                    "a row written again keeps its values but not its write time; a restore keeps both")
    return None
