"""Checks of lab 05b, Point-in-time restore: archiving as the nodes run it, the snapshot and the two
batches as Cassandra holds them, and a restore proven by rows, write times, each node's replay
and the archived segments themselves."""

from __future__ import annotations

import math
import os
from typing import Any

from dselab import environment
from dselab.cassandra_log import parse_log, parse_utc_offset
from dselab.check_engine import CheckContext, check
from dselab.check_helpers import commitlog, live_tables, pitr_tables, snapshots, writetimes
from dselab.check_helpers import pitr_batches as batches
from dselab.command_failure import reason_line
from dselab.runtime.base import LAB_NODES

LAB = "05b-point-in-time"
KS = environment.KEYSPACE
TAG = "pitr_base"
ARCHIVE = "commitlog_archive"  # in each node's data directory: the archive_command's target
# Step 2 records the rows' write times, step 3 the bad deploy's first one (small facts: they
# cross from the classroom's observer to the server).
A_RECORD, B_FIRST = "batch_a_times", "batch_b_first"
SEGMENT_HEAD = 4096  # bytes read of an archived segment: its header is a few dozen
MAX_SEGMENTS = 200  # archived segments looked at per node


def _commitlog_attribute(ctx: CheckContext, attribute: str) -> dict[str, str | None]:
    """Each node's Commitlog MBean attribute, as it read commitlog_archiving.properties at start-up."""
    results = ctx.nodetool_parallel([(n, ("sjk", "mx", "-b", commitlog.COMMITLOG_BEAN, "-mg", "-f", attribute))
                                     for n in LAB_NODES])
    values = {}
    for node, result in zip(LAB_NODES, results, strict=True):
        if not result.ok:
            raise ctx.failed(f"cannot read {attribute} of {node}'s commit log over JMX: "
                             f"{reason_line(result.stderr, result.stdout)}", hint=f"is {node} up? dselab status")
        values[node] = commitlog.mx_value(result.stdout)
    ctx.note(**{attribute: values})
    return values


def _archive_targets(ctx: CheckContext, node: str) -> set[str]:
    """`<data dir>/commitlog_archive/%name`, the data dir as the runtime names it or with its links resolved."""
    data = ctx.runtime.data_dir(node).rstrip("/")
    return {f"{path}/{ARCHIVE}/%name" for path in (data, os.path.realpath(data))}


@check(LAB, "archiving")
def archiving_on(ctx: CheckContext) -> None:
    """Proves: every node's running process archives its closed segments into its archive folder
    (the Commitlog MBean's ArchiveCommand, what the node read at start-up: a file written but not
    restarted, or `touch`ed, shows nothing there). Cannot prove: that the command works until a
    segment is archived (steps 3 and 4 look at the archive)."""
    commands = _commitlog_attribute(ctx, "ArchiveCommand")
    problems = []
    for node, command in commands.items():
        targets = _archive_targets(ctx, node)
        if not command:
            problems.append(f"{node} archives nothing (it read no archive_command when it last started)")
        elif "%path" not in command.split() or not targets & set(command.split()):
            problems.append(f"{node} runs archive_command={command!r}, which does not put %path at {min(targets)}")
    if problems:
        raise ctx.failed("; ".join(problems),
                         hint="write conf/commitlog_archiving.properties on that node as the page shows, then "
                              "restart it (dselab node stop / start): the file is read at start-up only")
    raise ctx.passed(f"all three nodes archive every closed commit-log segment into {ARCHIVE}/")


@check(LAB, "batch-a")
def snapshot_and_batch_a(ctx: CheckContext) -> None:
    """Proves: a whole nodetool snapshot pitr_base of training on every node, older than batch A;
    the tables hold exactly the environment's rows plus batch A (read at ALL). Records every row's
    write time for the restore. Cannot prove: that nothing else was written with old timestamps."""
    live = live_tables.read(ctx.runtime)
    problem = pitr_tables.difference(batches.after_a(), live, "after batch A")
    if problem:
        late = pitr_tables.b_times(live) and batches.after_b()["customers"].keys() == live["customers"].rows.keys()
        raise ctx.failed(problem, hint="batch B is written already: its writes hide batch A's write times; "
                                       "start the lab again (dselab start 05b)" if late else
                         "./scripts/cqlsh.sh -f labs/05b-point-in-time/data/batch-a.cql")
    record = pitr_tables.time_record(live)
    problems = snapshots.everywhere_problems(ctx, TAG, int(record["a_first"]), "batch A's first write")
    if problems:
        raise ctx.failed("; ".join(problems[:3]),
                         hint=f"take the snapshot on every node before batch A: nodetool snapshot {KS} -t {TAG}")
    if ctx.fact(A_RECORD) != record:
        ctx.keep_fact(A_RECORD, record)
    raise ctx.passed(f"{TAG} is on every node, and batch A is written: last write at "
                     f"{writetimes.when_text(int(record['a_last']))} (write times recorded)")


def _a_record(ctx: CheckContext, step: str) -> dict[str, Any]:
    record = ctx.fact(A_RECORD)
    if not record:
        raise ctx.failed(f"batch A's write times were never recorded in this lab run (step 2's check does it), "
                         f"so {step} cannot be judged", hint="check step 2 before the bad deploy")
    return dict(record)


@check(LAB, "bad-deploy")
def bad_deploy(ctx: CheckContext) -> None:
    """Proves: the tables hold what batch B leaves (read at ALL), and a whole second lies between
    batch A's last write and batch B's first, so a point in time (to the second) between them exists.
    Records batch B's first write time."""
    record = _a_record(ctx, "the bad deploy")
    live = live_tables.read(ctx.runtime)
    problem = pitr_tables.difference(batches.after_b(), live, "after the bad deploy")
    if problem:
        raise ctx.failed(problem, hint="./scripts/cqlsh.sh -f labs/05b-point-in-time/data/batch-b.cql")
    first_b = min(pitr_tables.b_times(live))
    last_a = int(record["a_last"])
    if math.ceil(last_a / 1e6) * 1e6 >= first_b:
        raise ctx.failed(f"batch B's first write ({writetimes.when_text(first_b)}) came within the second of batch "
                         f"A's last ({writetimes.when_text(last_a)}): no whole second lies between them to restore to",
                         hint="note the time, wait two seconds, and run batch-b.cql again")
    if ctx.fact(B_FIRST) != first_b:
        ctx.keep_fact(B_FIRST, first_b)
    raise ctx.passed(f"the bad deploy is in: its first write at {writetimes.when_text(first_b)}, "
                     f"{(first_b - last_a) / 1e6:.1f} s after batch A's last")


def _archive_problem(ctx: CheckContext, node: str) -> tuple[set[str], str | None]:
    """(the segment names in the node's archive, why it holds something that is no segment)."""
    entries = [e for e in ctx.files(node, ARCHIVE) if e.path.count("/") == 1]
    names = set()
    for entry in sorted(entries, key=lambda e: e.path)[-MAX_SEGMENTS:]:
        name = entry.path.rsplit("/", 1)[-1]
        problem = commitlog.header_problem(name, ctx.read_bytes(node, entry.path, SEGMENT_HEAD))
        if problem:
            return names, f"{ARCHIVE}/ of {node}: {problem}"
        names.add(name)
    return names, None


def _node_problem(ctx: CheckContext, node: str, point: str | None, first_b: int, last_a: int) -> str | None:
    """Why `node` was not restored from its archive up to a point between batch A and B, or None."""
    if point and point.lstrip("-").isdigit() and int(point) != commitlog.NO_POINT:
        at = int(point)
        if not last_a <= at < first_b:
            return (f"{node} was restored to {writetimes.when_text(at)}, not to a time between batch A's last write "
                    f"({writetimes.when_text(last_a)}) and the bad deploy's first ({writetimes.when_text(first_b)})")
    archived, problem = _archive_problem(ctx, node)
    if problem:
        return problem
    if not archived:
        return f"{node}'s {ARCHIVE}/ holds no commit-log segment"
    replayed = [r for r in _replays(ctx, node) if r.at * 1e6 > first_b and r.mutations and set(r.segments) & archived]
    ctx.note(node=node, replays=[f"{len(r.segments)} segments, {r.mutations} mutations" for r in replayed])
    if not replayed:
        return f"{node} has replayed no archived segment since the bad deploy (its log shows no such replay)"
    return None


def _replays(ctx: CheckContext, node: str) -> list[commitlog.Replay]:
    """The node's replays in its system log (INFO lines only: a start with nodes down fills the
    debug log with retries), times read in the node's zone."""
    zone = ctx.runtime.exec(node, ["date", "+%z"]).stdout
    text = ctx.runtime.log_since(node, 0, debug=False)
    ctx.note(node=node, utc_offset=zone.strip(), system_log_bytes=len(text))
    return commitlog.replays(parse_log(text, parse_utc_offset(zone)))


@check(LAB, "restore")
def restored_to_the_point(ctx: CheckContext) -> None:
    """Proves: read at ALL (any node still holding a write of batch B shows it), the tables hold the
    environment's rows plus batch A, each row with the write time step 2 recorded (none after the
    point); every node replayed segments of its archive since the lab started, whose files are
    segments Cassandra wrote (header and CRC); and a node still running with a restore point set
    has it between batch A and B. Cannot prove: rows written again `USING TIMESTAMP` with their
    recorded write times (the limit of lab 05's restore checks too)."""
    record = _a_record(ctx, "the restore")
    first_b = ctx.fact(B_FIRST)
    if first_b is None:
        raise ctx.failed("the bad deploy was never confirmed in this lab run (step 3), so there is nothing to undo",
                         hint="do step 3 and check it first")
    down = [n for n in LAB_NODES if not ctx.runtime.is_running(n)]
    if down:
        raise ctx.failed(f"{', '.join(down)} is not running", hint="dselab node start NODE")
    live = live_tables.read(ctx.runtime)
    problem = (pitr_tables.difference(batches.after_a(), live, "at the noted time")
               or pitr_tables.time_problem(record, live))
    if problem:
        raise ctx.failed(problem, hint="restore every node: the snapshot's SSTables, the archive replayed up to "
                                       "the noted time (restore_point_in_time), its own commit log moved aside")
    points = _commitlog_attribute(ctx, "RestorePointInTime")
    for node in LAB_NODES:
        problem = _node_problem(ctx, node, points[node], int(first_b), int(record["a_last"]))
        if problem:
            raise ctx.failed(problem, hint="restore that node as the page shows (stop, commit log aside, snapshot "
                                           "SSTables in place, restore_point_in_time, start)")
    raise ctx.passed("every node is back at the noted time: batch A with its own write times, nothing of the "
                     "bad deploy, each node replayed archived segments")
