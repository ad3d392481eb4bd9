"""Checks of lab 05, Backup & Restore: each confirms the live cluster state, never one weak signal."""

from __future__ import annotations

from collections.abc import Callable

from dselab import environment
from dselab.cassandra_log import CleanupEvidence, cleanup_always_logged, cleanup_evidence, parse_log, parse_utc_offset
from dselab.checking import CheckContext, check, end_of_lab
from dselab.checks.disk import manifest_mtime, snapshot_problem, table_folders
from dselab.command_failure import reason_line
from dselab.nodetool_output import (
    SnapshotRow,
    parse_listsnapshots,
    parse_owns,
    parse_size,
    parse_statusbackup,
    parse_tablestats_partitions,
)
from dselab.runtime.base import LAB_NODES, SEED, FileEntry, Runtime

LAB = "05-backup-restore"
KS = environment.KEYSPACE
TAG = "lab_backup"
FULL_PREFIX = "full_backup_"
# A node may hold somewhat more than its share (estimates, rows added later); not 1.5x as much.
OWNERSHIP_SLACK = 1.15


def _snapshots(ctx: CheckContext, node: str) -> list:
    result = ctx.nodetool(node, "listsnapshots")
    if not result.ok:
        raise ctx.failed(f"`nodetool listsnapshots` failed on {node}: {reason_line(result.stderr, result.stdout)}")
    return parse_listsnapshots(result.stdout)


def _near_miss(ctx: CheckContext, rows: list) -> str | None:
    """Explain the likely mistake when lab_backup is not listed for training on dse-seed."""
    for row in rows:
        if row.tag == TAG and row.keyspace != KS:
            return f"a snapshot named {TAG} exists for keyspace {row.keyspace}, not for {KS}"
    for row in rows:
        if row.tag != TAG and row.tag.lower().replace("-", "_") == TAG:
            return f"found snapshot {row.tag!r}; the tag must be exactly {TAG!r}"
    others = ctx.nodetool_all(LAB_NODES[1:], "listsnapshots")
    for node, result in others.items():
        if any(r.tag == TAG and r.keyspace == KS for r in parse_listsnapshots(result.stdout)):
            return (f"{TAG} was taken on {node}, but this step wants it on {SEED} "
                    "(./scripts/nodetool.sh runs on dse-seed)")
    return None


@check(LAB, "snapshot")
def snapshot_exists(ctx: CheckContext) -> None:
    rows = _snapshots(ctx, SEED)
    listed = {r.table for r in rows if r.tag == TAG and r.keyspace == KS}
    folders = table_folders(ctx, SEED, KS)
    if not listed:
        hand_made = [f.table for f in folders.values() if TAG in f.snapshots]
        reason = _near_miss(ctx, rows)
        if reason is None and hand_made:
            reason = (f"a snapshots/{TAG}/ folder exists on disk but nodetool does not list it: "
                      "it was made by hand, not by `nodetool snapshot`")
        raise ctx.failed(reason or f"no snapshot named {TAG} for keyspace {KS} on {SEED}",
                         hint=f"run ./scripts/nodetool.sh snapshot {KS} -t {TAG}")
    problems = [p for f in folders.values() if (p := snapshot_problem(ctx, SEED, f, TAG))]
    if problems:
        raise ctx.failed("; ".join(problems),
                         hint=f"clear it and take it again: ./scripts/nodetool.sh snapshot {KS} -t {TAG}")
    ctx.store.put(f"lab:{LAB}:snapshots_at_step1", sorted({r.tag for r in rows}))
    raise ctx.passed(f"{TAG} covers all {len(folders)} {KS} tables on {SEED}, with SSTables and manifests")


@check(LAB, "list")
def list_answer(ctx: CheckContext) -> None:
    step = ctx.lab.step("list")
    given = ctx.answer(step)
    if given is None:
        raise ctx.failed("no answer yet: " + (step.question or ""),
                         hint="read it in ./scripts/nodetool.sh listsnapshots, then: dselab answer 05 2 VALUE")
    rows = [r for r in _snapshots(ctx, SEED) if r.tag == TAG and r.keyspace == KS and r.table == "orders"]
    if not rows:
        raise ctx.failed(f"{TAG} for {KS}.orders is not listed on {SEED}, so the answer cannot be compared",
                         hint="take the snapshot again (step 1), list it, and answer from the output")
    truth = rows[0].size_on_disk or 0
    value = parse_size(given)
    if value is None or abs(value - truth) > max(0.01 * truth, 1024 * 0.01):
        raise ctx.failed(f"{given!r} is not the size on disk that listsnapshots shows for {TAG} {KS}.orders",
                         hint="copy the `Size on disk` column of the lab_backup / orders row, with its unit")
    raise ctx.passed(f"right: {TAG} of {KS}.orders takes {given} on disk")


def _backup_running(ctx: CheckContext, nodes: tuple[str, ...]) -> dict[str, bool | None]:
    results = ctx.nodetool_all(nodes, "statusbackup")
    return {node: parse_statusbackup(result.stdout) for node, result in results.items()}


@check(LAB, "incremental")
def incremental_on_seed(ctx: CheckContext) -> None:
    state = _backup_running(ctx, (SEED,))[SEED]
    if state is not True:
        raise ctx.failed(f"incremental backup is not running on {SEED} (statusbackup: "
                         f"{'not running' if state is False else 'no answer'})",
                         hint="./scripts/nodetool.sh enablebackup, then ./scripts/nodetool.sh statusbackup")
    raise ctx.passed(f"statusbackup on {SEED} says running")


@check(LAB, "clear")
def snapshot_cleared(ctx: CheckContext) -> None:
    before = ctx.store.get(f"lab:{LAB}:snapshots_at_step1")
    if before is None:
        raise ctx.failed(f"{TAG} was never confirmed in this lab run (step 1), so there is nothing to clear yet",
                         hint="do step 1 first and check it")
    rows = _snapshots(ctx, SEED)
    tags_now = {r.tag for r in rows}
    if any(r.tag == TAG and r.keyspace == KS for r in rows):
        raise ctx.failed(f"{TAG} is still listed on {SEED}",
                         hint=f"./scripts/nodetool.sh clearsnapshot {KS} -t {TAG}")
    left = [f.table for f in table_folders(ctx, SEED, KS).values() if TAG in f.snapshots]
    if left:
        raise ctx.failed(f"snapshots/{TAG}/ is still on disk for {', '.join(left)}",
                         hint=f"clear it with nodetool (./scripts/nodetool.sh clearsnapshot {KS} -t {TAG})")
    lost = sorted(set(before) - {TAG} - tags_now)
    if lost:
        raise ctx.failed(f"other snapshots were removed too: {', '.join(lost)}",
                         hint=f"name the tag (-t {TAG}) so only that snapshot goes")
    raise ctx.passed(f"{TAG} is gone from {SEED}; other snapshots untouched")


def _cleanup_evidence(ctx: CheckContext, node: str) -> CleanupEvidence:
    """Cleanup lines about the training keyspace in the node's log since the lab started. Log
    times carry no zone: they are read in the node's own zone (`date +%z` on the node)."""
    zone = ctx.runtime.exec(node, ["date", "+%z"])
    ctx.note(node=node, utc_offset=zone.stdout.strip())
    evidence = cleanup_evidence(parse_log(ctx.log_since_mark(node), parse_utc_offset(zone.stdout)), KS)
    ctx.note(node=node, cleanup_finished_at=evidence.finished_at,
             cleanup_log_lines=[line[:300] for line in evidence.lines[-6:]])
    return evidence


def _overfull(ctx: CheckContext) -> dict[str, list[str]]:
    """Node -> why it still holds partitions outside its ranges (data-level evidence of no cleanup)."""
    status, *stats = ctx.nodetool_parallel([(SEED, ("status", KS))]
                                           + [(n, ("tablestats", "-F", "json", KS)) for n in LAB_NODES])
    owns = parse_owns(status.stdout)
    problems: dict[str, list[str]] = {}
    for node, result in zip(LAB_NODES, stats, strict=True):
        share = owns.get(ctx.runtime.address(node))
        if share is None:
            problems[node] = [f"`nodetool status {KS}` shows no ownership for {node} ({ctx.runtime.address(node)})"]
            continue
        for table, partitions in parse_tablestats_partitions(result.stdout, KS).items():
            allowed = share * environment.PARTITIONS.get(table, partitions) * OWNERSHIP_SLACK + 20
            if partitions > allowed:
                problems.setdefault(node, []).append(
                    f"{node} still holds ~{partitions} partitions of {KS}.{table} but owns {share:.0%} of the ring")
    return problems


def _cleanup_hint(nodes: list[str]) -> str:
    return "; ".join(f"./scripts/nodetool-node.sh {n} cleanup" if n != SEED else "./scripts/nodetool.sh cleanup"
                     for n in nodes)


@check(LAB, "cleanup")
def cleanup_everywhere(ctx: CheckContext) -> None:
    finished = {n: _cleanup_evidence(ctx, n).finished_at for n in LAB_NODES}
    missing = [n for n, at in finished.items() if at is None]
    if missing and cleanup_always_logged(ctx.runtime.cassandra_version()):
        raise ctx.failed(f"cleanup has not run on {', '.join(missing)} since the lab started", hint=_cleanup_hint(missing))
    overfull = _overfull(ctx)
    not_run = [n for n in missing if n in overfull]
    if not_run:
        raise ctx.failed(f"cleanup has not run on {', '.join(not_run)} since the lab started: "
                         + "; ".join(p for n in not_run for p in overfull[n]), hint=_cleanup_hint(not_run))
    if overfull:
        raise ctx.failed("; ".join(p for ps in overfull.values() for p in ps),
                         hint="run cleanup on that node again and wait for it to finish")
    # Cassandra 3.11 / DSE 5.1 log nothing for a node whose SSTables all lie in its own ranges:
    # for such a node the data is the proof (no partition outside the ranges it replicates).
    unlogged = (f"; {', '.join(missing)} logged no cleanup line (3.11 / DSE 5.1 log nothing for a node with "
                "nothing to clean) and hold only partitions of the ranges they replicate") if missing else ""
    ctx.note(data_level_proof_for=missing)
    ran = "cleanup ran on " + (", ".join(n for n in LAB_NODES if n not in missing) if missing else "all three nodes")
    last = max((at for at in finished.values() if at is not None), default=float(ctx.baseline.get("started_at", 0)))
    folders = table_folders(ctx, SEED, KS)
    fresh = sorted({tag for f in folders.values() for tag in f.snapshots
                    if (m := manifest_mtime(f, tag)) and m > last
                    and all(tag in g.snapshots for g in folders.values())})
    if not fresh:
        raise ctx.failed(f"{ran}, but no {KS} snapshot on {SEED} was taken after it finished" + unlogged,
                         hint=f"./scripts/nodetool.sh snapshot {KS} -t after_cleanup")
    raise ctx.passed(f"{ran}; snapshot {fresh[-1]} was taken after it" + unlogged)


def _keyspace_folders(ctx: CheckContext, node: str) -> set[str]:
    """Keyspace folder names in the node's data directory."""
    result = ctx.runtime.exec(node, ["ls", "-1"])
    ctx.note(node=node, keyspace_folders=result.stdout.split())
    return set(result.stdout.split())


def _confirmed_on_disk(row: SnapshotRow, keyspaces: set[str],
                       listing: Callable[[str], list[FileEntry]]) -> SnapshotRow | None:
    """A fixed-width row whose tag ran into its keyspace name, split where a keyspace folder on
    disk holds that table's snapshots/<tag>/ (None when no split or several splits fit)."""
    joined = row.tag + row.keyspace
    fits = []
    for ks in (k for k in keyspaces if joined.endswith(k) and len(k) < len(joined)):
        tag = joined[:-len(ks)]
        if any(f"/snapshots/{tag}/" in e.path and e.path.startswith(f"{ks}/{row.table}-") for e in listing(ks)):
            fits.append(SnapshotRow(tag, ks, row.table, row.true_size, row.size_on_disk))
    return fits[0] if len(fits) == 1 else None


def _snapshot_rows(ctx: CheckContext, node: str, output: str) -> list[SnapshotRow]:
    """listsnapshots rows; where a long tag ran into the keyspace name (3.x fixed width), the
    node's keyspace folders name the keyspace, and the snapshot folders on disk settle the rest."""
    rows = parse_listsnapshots(output)
    if not any(r.ambiguous for r in rows):
        return rows
    keyspaces = _keyspace_folders(ctx, node)
    rows = parse_listsnapshots(output, keyspaces)
    listings: dict[str, list[FileEntry]] = {}

    def listing(ks: str) -> list[FileEntry]:
        return listings[ks] if ks in listings else listings.setdefault(ks, ctx.files(node, ks))

    resolved = [r if not r.ambiguous else _confirmed_on_disk(r, keyspaces, listing) for r in rows]
    ctx.note(node=node, unconfirmed_rows=[f"{r.tag}{r.keyspace} {r.table}" for r, ok in zip(rows, resolved, strict=True)
                                          if ok is None])
    return [r for r in resolved if r is not None]


@check(LAB, "snapshot-all")
def full_snapshot_everywhere(ctx: CheckContext) -> None:
    results = ctx.nodetool_all(LAB_NODES, "listsnapshots")
    problems = []
    for node, result in results.items():
        by_tag: dict[str, list[SnapshotRow]] = {}
        for row in _snapshot_rows(ctx, node, result.stdout):
            if row.tag.startswith(FULL_PREFIX):
                by_tag.setdefault(row.tag, []).append(row)
        if not by_tag:
            problems.append(f"no {FULL_PREFIX}* snapshot on {node}")
        elif not any("system_schema" in {r.keyspace for r in rows}
                     and set(environment.TABLES) <= {r.table for r in rows if r.keyspace == KS}
                     for rows in by_tag.values()):
            problems.append(f"{min(by_tag)} on {node} does not cover all keyspaces (took a keyspace name?)")
    if problems:
        raise ctx.failed("; ".join(problems),
                         hint="snapshot every keyspace on every node: ./scripts/nodetool.sh snapshot -t "
                              "full_backup_$(date +%Y%m%d), and the same with nodetool-node.sh for the others")
    raise ctx.passed("every node has a full_backup_ snapshot of all keyspaces")


@check(LAB, "incremental-files")
def incremental_files(ctx: CheckContext) -> None:
    state = _backup_running(ctx, LAB_NODES)
    off = [n for n, running in state.items() if running is not True]
    if off:
        raise ctx.failed(f"incremental backup is not running on {', '.join(off)}",
                         hint="enablebackup on every node (nodetool.sh and nodetool-node.sh)")
    count = ctx.runtime.cql(f"SELECT count(*) AS n FROM {KS}.customers", consistency="ALL")[0]["n"]
    ctx.note(customers_rows=count)
    if count < environment.CUSTOMERS + environment.NEW_CUSTOMERS:
        raise ctx.failed(f"{KS}.customers has {count} rows; the new rows of this step are not written yet",
                         hint="./scripts/cqlsh.sh -f labs/05-backup-restore/data/new-rows.cql")
    empty = [f"{t.table} on {n}" for n in LAB_NODES for t in table_folders(ctx, n, KS).values()
             if not t.backup_data_files()]
    if empty:
        raise ctx.failed(f"no SSTable hard links in backups/ yet for {', '.join(empty)}",
                         hint="flush every node so the new rows land in SSTables: nodetool flush training")
    raise ctx.passed("new rows were flushed and hard-linked into backups/ on every node")


def _fingerprint_problem(ctx: CheckContext, runtime, node: str | None) -> str | None:
    expected = environment.expected_fingerprint(with_new_rows=True)
    actual = environment.fingerprint(runtime, node=node)
    ctx.note(expected={t: f.to_dict() for t, f in expected.items()},
             actual={t: f.to_dict() for t, f in actual.items()})
    for table, want in expected.items():
        got = actual[table]
        if got.rows != want.rows:
            return f"{KS}.{table} has {got.rows} rows; the backup (snapshot + incremental) had {want.rows}"
        if got.checksum != want.checksum:
            return f"{KS}.{table} has the right row count but different contents"
    return None


@check(LAB, "loss")
def data_lost(ctx: CheckContext) -> None:
    counts = {t: ctx.runtime.cql(f"SELECT count(*) AS n FROM {KS}.{t}", consistency="ALL")[0]["n"]
              for t in environment.TABLES}
    ctx.note(rows=counts)
    if any(counts.values()):
        raise ctx.failed(f"the {KS} tables still hold data ({counts})",
                         hint="simulate the loss: ./scripts/cqlsh.sh -e \"TRUNCATE training.customers; "
                              "TRUNCATE training.orders;\"")
    raise ctx.passed(f"both {KS} tables are empty: time to restore")


@check(LAB, "restore")
def restored_in_place(ctx: CheckContext) -> None:
    problem = _fingerprint_problem(ctx, ctx.runtime, None)
    if problem:
        raise ctx.failed(problem, hint="copy snapshots/full_backup_*/ and backups/ SSTables into each table "
                                       "folder on every node, then nodetool refresh each table on each node")
    raise ctx.passed("restored data equals the backup: every row of the snapshot and the incremental files")


def _running_restore_cluster(ctx: CheckContext) -> Runtime:
    target = ctx.restore_runtime
    if target is None or not any(target.is_running(n) for n in target.node_names()):
        raise ctx.failed("the restore cluster is not running", hint="./scripts/restore-cluster.sh up")
    return target


@check(LAB, "new-cluster")
def restored_elsewhere(ctx: CheckContext) -> None:
    target = _running_restore_cluster(ctx)
    node = target.node_names()[0]
    if not target.cql("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s",
                      [KS], node=node):
        raise ctx.failed(f"keyspace {KS} does not exist on the restore cluster",
                         hint="create the keyspace and the tables (schema.cql of the snapshot) there first")
    problem = _fingerprint_problem(ctx, target, node)
    if problem:
        raise ctx.failed(f"restore cluster: {problem}",
                         hint="sstableloader every node's snapshot and backups into the restore cluster")
    raise ctx.passed("the new cluster holds exactly the backed-up data")


@check(LAB, "disable-backup")
def backup_disabled(ctx: CheckContext) -> None:
    # "Off" only means something after it was on everywhere: a passed step 7 in this lab run.
    since = float(ctx.baseline.get("started_at", 0))
    if not any(a["status"] == "pass" for a in ctx.store.attempts(LAB, "incremental-files", since)):
        raise ctx.failed("incremental backup was never confirmed on every node in this lab run (step 7)",
                         hint="do step 7 first and check it, then turn backup off")
    state = _backup_running(ctx, LAB_NODES)
    on = [n for n, running in state.items() if running is not False]
    if on:
        raise ctx.failed(f"incremental backup is still running on {', '.join(on)}",
                         hint="disablebackup on every node")
    raise ctx.passed("incremental backup is off on every node")


@end_of_lab(LAB)
def restored_data_equals_backup(ctx: CheckContext) -> None:
    """After the last step: both restores still hold exactly what was backed up."""
    target = _running_restore_cluster(ctx)
    for label, runtime, node in (("lab cluster", ctx.runtime, None), ("restore cluster", target, target.node_names()[0])):
        problem = _fingerprint_problem(ctx, runtime, node)
        if problem:
            raise ctx.failed(f"{label}: {problem}")
    rows = {t: f.rows for t, f in environment.expected_fingerprint(with_new_rows=True).items()}
    raise ctx.passed("restored data equals the backup on the lab cluster and the restore cluster "
                     f"(rows and SHA-256 per table: {', '.join(f'{t} {n}' for t, n in rows.items())})")
