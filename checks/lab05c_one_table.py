"""Checks of lab 05c, Restore one table: the nightly snapshot on every node, day two as Cassandra
holds it, and a restore of `orders` alone proven by rows, write times and every node's own data."""

from __future__ import annotations

from typing import Any

from dselab import environment
from dselab.check_engine import CheckContext, check
from dselab.check_helpers import live_tables, one_table, snapshots, writetimes
from dselab.check_helpers.live_tables import Live
from dselab.check_helpers.table_rows import environment_tables, key
from dselab.command_failure import reason_line
from dselab.nodetool_output import parse_owns, parse_tablestats_partitions
from dselab.runtime.base import LAB_NODES, SEED

LAB = "05c-one-table"
KS = environment.KEYSPACE
TAG = "nightly"
TABLE = one_table.TABLE
DAY_TWO_CQL = "./scripts/cqlsh.sh < labs/05c-one-table/data/day-two.cql"
# Small facts (they cross from the classroom's observer): step 1 records the write times the
# snapshot holds, step 2 those day two left in customers and its first write.
SNAPSHOT_TIMES, DAY_TWO = "snapshot_times", "day_two_times"
# A node that loaded its snapshot holds about its share of the partitions; one that did not, none.
LOADED_SHARE = 0.5
RESTORE_HINT = (f"truncate {KS}.{TABLE}, then load the {TAG} snapshot's {TABLE} SSTables on every node "
                f"(nodetool refresh {KS} {TABLE}, or nodetool import --copy-data {KS} {TABLE} DIR)")


def _day_two_in(live: dict[str, Live]) -> bool:
    return any((i,) in live["customers"].rows for i in one_table.SIGNUPS)


@check(LAB, "snapshot")
def nightly_snapshot(ctx: CheckContext) -> None:
    """Proves: a whole nodetool snapshot `nightly` of both training tables on every node, while the
    tables still hold the environment's rows (read at ALL). Records every row's write time: the
    restore must bring the snapshot's rows back with them. Cannot prove: when the snapshot was
    taken (step 2 proves it came before day two's first write)."""
    live = live_tables.read(ctx.runtime)
    late = _day_two_in(live)
    problem = live_tables.difference(environment_tables(), live, "before day two",
                                     lambda *_: "day two wrote it" if late else "no write of this lab made it")
    if problem:
        raise ctx.failed(problem, hint="day two is written already: the snapshot must come first; start the lab "
                                       "again (dselab start 05c)" if late else "start the lab again (dselab start 05c)")
    problems = snapshots.everywhere_problems(ctx, TAG)
    if problems:
        raise ctx.failed("; ".join(problems[:3]),
                         hint=f"snapshot {KS} on every node: nodetool snapshot {KS} -t {TAG} (nodetool-node.sh for each)")
    record = {t: live_tables.times_digest(live[t]) for t in environment.TABLES}
    if ctx.fact(SNAPSHOT_TIMES) != record:
        ctx.keep_fact(SNAPSHOT_TIMES, record)
    raise ctx.passed(f"{TAG} holds both {KS} tables on every node (write times recorded)")


def _record(ctx: CheckContext, name: str, step: int, what: str) -> dict[str, Any]:
    record = ctx.fact(name)
    if not record:
        raise ctx.failed(f"step {step} was never confirmed in this lab run, so {what} cannot be judged",
                         hint=f"do step {step} and check it first")
    return dict(record)


def _day_two_writes(live: dict[str, Live]) -> list[int]:
    customers = [live["customers"].times.get((i,)) for i in one_table.SIGNUPS]
    orders = [live[TABLE].times.get(key(TABLE, r)) for r in one_table.repriced()]
    return [t for t in customers + orders if t is not None]


@check(LAB, "day-two")
def day_two(ctx: CheckContext) -> None:
    """Proves: the tables hold what day two leaves (read at ALL), and `nightly` on every node is
    older than day two's first write. Records customers' write times and that first write."""
    _record(ctx, SNAPSHOT_TIMES, 1, "day two")
    live = live_tables.read(ctx.runtime)
    problem = live_tables.difference(one_table.after_day_two(), live, "after day two", one_table.day_two_origin)
    if problem:
        raise ctx.failed(problem, hint=DAY_TWO_CQL)
    first = min(_day_two_writes(live))
    problems = snapshots.everywhere_problems(ctx, TAG, first, "day two's first write")
    if problems:
        raise ctx.failed("; ".join(problems[:3]), hint="the nightly snapshot must come before day two: "
                                                      "start the lab again (dselab start 05c)")
    record = {"customers": live_tables.times_digest(live["customers"]), "first": first}
    if ctx.fact(DAY_TWO) != record:
        ctx.keep_fact(DAY_TWO, record)
    raise ctx.passed(f"day two is in: {len(one_table.SIGNUPS)} sign-ups, and a migration that broke "
                     f"{len(one_table.REPRICED) + len(one_table.DROPPED)} customers' orders "
                     f"(first write {writetimes.when_text(first)})")


def _unloaded(ctx: CheckContext) -> list[str]:
    """Nodes whose own `orders` holds far less than their share of the ring (the node's own view:
    tablestats, read before any read at ALL repairs a replica)."""
    status, *stats = ctx.nodetool_parallel([(SEED, ("status", KS))]
                                           + [(n, ("tablestats", "-F", "json", f"{KS}.{TABLE}")) for n in LAB_NODES])
    owns = parse_owns(status.stdout)
    problems = []
    for node, result in zip(LAB_NODES, stats, strict=True):
        if not result.ok:
            raise ctx.failed(f"`nodetool tablestats` failed on {node}: {reason_line(result.stderr, result.stdout)}",
                             hint=f"is {node} up? dselab status")
        share = owns.get(ctx.runtime.address(node), 0.0)
        partitions = parse_tablestats_partitions(result.stdout, KS).get(TABLE, 0)
        ctx.note(node=node, owns=share, orders_partitions=partitions)
        if partitions < LOADED_SHARE * share * environment.PARTITIONS[TABLE]:
            problems.append(f"{node} holds ~{partitions} partitions of {KS}.{TABLE} but owns {share:.0%} of the ring")
    return problems


def _time_problem(live: dict[str, Live], snapshot: dict[str, Any], after_two: dict[str, Any]) -> str | None:
    first = int(after_two["first"])
    late = sorted(k for k, t in live[TABLE].times.items() if t is not None and t >= first)
    if late:
        return (f"{len(late)} rows of {KS}.{TABLE} were written after day two began (e.g. order {late[0][0]}/"
                f"{late[0][1]} at {writetimes.when_text(live[TABLE].times[late[0]] or 0)}): written again, not "
                "restored; rows loaded from the snapshot keep the write times they had")
    if live_tables.times_digest(live[TABLE]) != snapshot[TABLE]:
        return f"the rows of {KS}.{TABLE} carry other write times than the snapshot's rows: written again, not restored"
    if live_tables.times_digest(live["customers"]) != after_two["customers"]:
        return (f"the rows of {KS}.customers carry other write times than day two left: customers was restored or "
                "written again; restore orders alone")
    return None


@check(LAB, "restore-orders")
def orders_restored(ctx: CheckContext) -> None:
    """Proves: every node loaded the snapshot's orders (each holds about its share of the ring's
    partitions, by its own tablestats); read at ALL, orders holds exactly the snapshot's rows with
    the write times step 1 recorded (nothing of the migration, nothing written again), and
    customers holds day two's rows with the write times step 2 recorded (not restored, not
    rewritten). Cannot prove: rows written again `USING TIMESTAMP` with their recorded write times."""
    snapshot = _record(ctx, SNAPSHOT_TIMES, 1, "the restore")
    after_two = _record(ctx, DAY_TWO, 2, "the restore")
    down = [n for n in LAB_NODES if not ctx.runtime.is_running(n)]
    if down:
        raise ctx.failed(f"{', '.join(down)} is not running", hint="dselab node start NODE")
    unloaded = _unloaded(ctx)
    if unloaded:
        raise ctx.failed("; ".join(unloaded) + ": load the snapshot on every node (snapshots are per node)",
                         hint=RESTORE_HINT)
    live = live_tables.read(ctx.runtime)
    problem = (live_tables.difference(one_table.restored(), live, "after restoring orders alone", one_table.origin)
               or _time_problem(live, snapshot, after_two))
    if problem:
        raise ctx.failed(problem, hint=RESTORE_HINT)
    raise ctx.passed(f"{KS}.{TABLE} is back as the snapshot held it on every node, with its write times; "
                     f"customers kept day two's {len(one_table.SIGNUPS)} sign-ups")
