"""Checks of lab 05, Backup & Restore: each confirms the live cluster state, never one weak signal."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from dselab import environment
from dselab.cassandra_log import CleanupEvidence, cleanup_always_logged, cleanup_evidence, parse_log, parse_utc_offset
from dselab.check_engine import CheckContext, check, end_of_lab
from dselab.check_helpers import writetimes
from dselab.check_helpers.disk import (
    DATA_FILE,
    HashBudget,
    TableFolder,
    manifest_mtime,
    snapshot_problem,
    sstable_problems,
    table_folders,
)
from dselab.check_helpers.sstables import predating_files
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
# Step 7 records the rows' write times here (a small fact: it crosses from the classroom's observer).
WRITE_TIMES = "write_times"
SNAPSHOTS_AT_STEP1 = "snapshots_at_step1"
Rows = dict[str, list[dict]]


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
    ctx.keep_fact(SNAPSHOTS_AT_STEP1, sorted({r.tag for r in rows}))
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
    before = ctx.fact(SNAPSHOTS_AT_STEP1)
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


def _predating(folder: TableFolder, tag: str, seed: CleanupEvidence) -> str | None:
    """Why snapshots/<tag>/ of this table holds SSTables from before seed's cleanup, or None."""
    name = folder.folder.rsplit("/", 1)[-1]
    files = {f.path.rsplit("/", 1)[-1]: f.inode for f in folder.snapshot_files(tag)
             if DATA_FILE.match(f.path.rsplit("/", 1)[-1])}
    rewritten = seed.rewritten.get(name, set())
    stale = predating_files(files, folder.live_data_inodes(), rewritten, seed.written.get(name, set()))
    if not stale:
        return None
    why = ("which cleanup rewrote" if stale[0] in rewritten
           else f"which {SEED} no longer holds and which is older than the SSTables cleanup wrote")
    return (f"{tag} holds {KS}.{folder.table} {stale[0]}, {why}: it was taken before cleanup "
            "(a newer manifest.json does not make the SSTables in it newer)")


def _after_cleanup_problem(ctx: CheckContext, folders: dict[str, TableFolder], tag: str,
                           seed: CleanupEvidence) -> str | None:
    """Why snapshot `tag` is not a whole snapshot of what cleanup left on dse-seed, or None.

    Proves: every table's snapshot is whole (manifest, SSTables with their TOC components and
    digests) and its SSTables are the ones the node held after its cleanup (hard links of live
    SSTables, or not older than what cleanup wrote; none that cleanup rewrote). A `touch`ed old
    manifest changes none of that. Cannot prove: that it came after the *other* nodes' cleanup;
    that order rests on the manifest's time, which `touch` can set. dse-seed's snapshot holds
    dse-seed's data only, which the other nodes' cleanup does not change."""
    budget = HashBudget()
    for folder in folders.values():
        problem = snapshot_problem(ctx, SEED, folder, tag, budget) or _predating(folder, tag, seed)
        if problem:
            return problem
    return None


@check(LAB, "cleanup")
def cleanup_everywhere(ctx: CheckContext) -> None:
    evidence = {n: _cleanup_evidence(ctx, n) for n in LAB_NODES}
    finished = {n: e.finished_at for n, e in evidence.items()}
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
    candidates = sorted({tag for f in folders.values() for tag in f.snapshots
                         if (m := manifest_mtime(f, tag)) and m > last
                         and all(tag in g.snapshots for g in folders.values())})
    hint = f"./scripts/nodetool.sh snapshot {KS} -t after_cleanup"
    if not candidates:
        raise ctx.failed(f"{ran}, but no {KS} snapshot on {SEED} was taken after it finished" + unlogged, hint=hint)
    problems = {tag: _after_cleanup_problem(ctx, folders, tag, evidence[SEED]) for tag in candidates}
    fresh = [tag for tag, problem in problems.items() if problem is None]
    if not fresh:
        raise ctx.failed(f"{ran}, but no {KS} snapshot on {SEED} holds what cleanup left: "
                         + "; ".join(p for p in problems.values() if p) + unlogged, hint=hint)
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


def _covers_everything(rows: list[SnapshotRow]) -> bool:
    return "system_schema" in {r.keyspace for r in rows} and \
        set(environment.TABLES) <= {r.table for r in rows if r.keyspace == KS}


def _whole_snapshot_problems(ctx: CheckContext, node: str, tag: str) -> list[str]:
    """Why the training tables' snapshots/<tag>/ on `node` are not whole nodetool snapshots."""
    budget = HashBudget()
    folders = table_folders(ctx, node, KS).values()
    return [p for f in folders if (p := snapshot_problem(ctx, node, f, tag, budget))]


@check(LAB, "snapshot-all")
def full_snapshot_everywhere(ctx: CheckContext) -> None:
    results = ctx.nodetool_all(LAB_NODES, "listsnapshots")
    problems = []
    for node, result in results.items():
        by_tag: dict[str, list[SnapshotRow]] = {}
        for row in _snapshot_rows(ctx, node, result.stdout):
            if row.tag.startswith(FULL_PREFIX):
                by_tag.setdefault(row.tag, []).append(row)
        covering = sorted(tag for tag, rows in by_tag.items() if _covers_everything(rows))
        if not by_tag:
            problems.append(f"no {FULL_PREFIX}* snapshot on {node}")
        elif not covering:
            problems.append(f"{min(by_tag)} on {node} does not cover all keyspaces (took a keyspace name?)")
        else:  # listed by nodetool, and on disk whole SSTables (not folders made or emptied by hand)
            problems += _whole_snapshot_problems(ctx, node, covering[-1])
    if problems:
        raise ctx.failed("; ".join(problems),
                         hint="snapshot every keyspace on every node: ./scripts/nodetool.sh snapshot -t "
                              "full_backup_$(date +%Y%m%d), and the same with nodetool-node.sh for the others")
    raise ctx.passed("every node has a full_backup_ snapshot of all keyspaces")


# -- rows and their write times --------------------------------------------------------------------

def _read_tables(ctx: CheckContext, runtime: Runtime, node: str | None) -> Rows:
    """Every row of both tables with its write time, read at consistency ALL (one read per table, both
    at once: each waits mostly on the nodes; 0.37 -> 0.29 s for the 12,150 rows on 2 cores)."""
    with ThreadPoolExecutor(len(environment.TABLES)) as pool:
        read = pool.map(lambda t: runtime.cql(writetimes.select_statement(t), node=node, consistency="ALL"),
                        environment.TABLES)
        tables = dict(zip(environment.TABLES, read, strict=True))
    ctx.note(cluster=runtime.cluster, rows={t: len(rows) for t, rows in tables.items()})
    return tables


def _fingerprint_problem(ctx: CheckContext, tables: Rows) -> str | None:
    expected = environment.expected_fingerprint(with_new_rows=True)
    actual = {t: environment.digest_rows(tuple(r[c] for c in environment.COLUMNS[t]) for r in rows)
              for t, rows in tables.items()}
    ctx.note(expected={t: f.to_dict() for t, f in expected.items()},
             actual={t: f.to_dict() for t, f in actual.items()})
    for table, want in expected.items():
        got = actual[table]
        if got.rows != want.rows:
            return f"{KS}.{table} has {got.rows} rows; the backup (snapshot + incremental) had {want.rows}"
        if got.checksum != want.checksum:
            return f"{KS}.{table} has the right row count but different contents"
    return None


def _record_write_times(ctx: CheckContext, tables: Rows) -> None:
    """Keep the rows' write times for the restore checks: a restore brings them back unchanged.
    An unchanged record keeps its time, so checking step 7 again after the restore changes nothing."""
    times = {t: writetimes.table_times(t, rows) for t, rows in tables.items()}
    old = ctx.fact(WRITE_TIMES)
    if not old or old.get("tables") != times:
        ctx.keep_fact(WRITE_TIMES, writetimes.fact(times))


def _backup_file_problems(ctx: CheckContext) -> tuple[list[str], list[str]]:
    """(table and node where backups/ holds no SSTable, why the SSTables in backups/ are not whole)."""
    empty, broken, budget = [], [], HashBudget()
    for node in LAB_NODES:
        for folder in table_folders(ctx, node, KS).values():
            if not folder.backup_data_files():
                empty.append(f"{folder.table} on {node}")
            broken += sstable_problems(ctx, node, folder.backups, f"backups/ of {KS}.{folder.table} on {node}", budget)
    return empty, broken


@check(LAB, "incremental-files")
def incremental_files(ctx: CheckContext) -> None:
    """Proves: backup runs on every node, the new rows are there (read at ALL), and every node's
    backups/ holds whole SSTables of both tables (TOC components, none empty, Data.db matching
    its Digest.crc32): a `touch`ed Data.db is none. Records the rows' write times for steps 9-10.
    Cannot prove: that a whole SSTable in backups/ was linked there by a flush rather than copied
    there from elsewhere (hard links go when compaction replaces the live files, so they are not
    required)."""
    state = _backup_running(ctx, LAB_NODES)
    off = [n for n, running in state.items() if running is not True]
    if off:
        raise ctx.failed(f"incremental backup is not running on {', '.join(off)}",
                         hint="enablebackup on every node (nodetool.sh and nodetool-node.sh)")
    tables = _read_tables(ctx, ctx.runtime, None)
    want = {t: f.rows for t, f in environment.expected_fingerprint(with_new_rows=True).items()}
    for table in environment.TABLES:
        if len(tables[table]) < want[table]:
            raise ctx.failed(f"{KS}.{table} has {len(tables[table])} rows; the new rows of this step are not written yet",
                             hint="./scripts/cqlsh.sh -f labs/05-backup-restore/data/new-rows.cql")
    empty, broken = _backup_file_problems(ctx)
    if empty:
        raise ctx.failed(f"no SSTable hard links in backups/ yet for {', '.join(empty)}",
                         hint="flush every node so the new rows land in SSTables: nodetool flush training")
    if broken:
        raise ctx.failed("not SSTables Cassandra wrote: " + "; ".join(broken[:4]),
                         hint="remove the files you put in backups/ by hand; Cassandra links whole SSTables "
                              "there when it flushes with backup on (nodetool flush training)")
    _record_write_times(ctx, tables)
    raise ctx.passed("new rows were flushed and hard-linked into backups/ on every node")


def _truncations(ctx: CheckContext) -> dict[str, float | None]:
    """When each training table was last truncated, from dse-seed's system.local. TRUNCATE runs
    on every node (it fails unless all are up), so one node's record stands for the cluster."""
    ids = {r["table_name"]: r["id"] for r in ctx.runtime.cql(
        "SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = %s", [KS])}
    local = ctx.runtime.cql("SELECT truncated_at FROM system.local", node=SEED)
    when = writetimes.truncations({t: ids.get(t) for t in environment.TABLES},
                                  local[0].get("truncated_at") if local else None)
    ctx.note(truncated_at=when)
    return when


def _loss_problem(ctx: CheckContext, when: dict[str, float | None]) -> str | None:
    """No truncation of every table after step 7 recorded the rows (or, before that, after the
    lab started): then nothing was lost that a restore could bring back."""
    recorded = ctx.fact(WRITE_TIMES)
    if recorded:
        return writetimes.loss_problem(when, float(recorded["recorded_at"]), "step 7 recorded the rows you backed up")
    return writetimes.loss_problem(when, float(ctx.baseline.get("started_at", 0)), "this lab run started")


@check(LAB, "loss")
def data_lost(ctx: CheckContext) -> None:
    """Proves: both tables are empty, and Cassandra's truncation record says both were truncated
    in this lab run (after step 7, once it passed). Cannot prove more than a TRUNCATE did it."""
    counts = {t: ctx.runtime.cql(f"SELECT count(*) AS n FROM {KS}.{t}", consistency="ALL")[0]["n"]
              for t in environment.TABLES}
    ctx.note(rows=counts)
    hint = "simulate the loss: ./scripts/cqlsh.sh -e \"TRUNCATE training.customers; TRUNCATE training.orders;\""
    if any(counts.values()):
        raise ctx.failed(f"the {KS} tables still hold data ({counts})", hint=hint)
    problem = _loss_problem(ctx, _truncations(ctx))
    if problem:
        raise ctx.failed(problem, hint=hint)
    raise ctx.passed(f"both {KS} tables are empty: time to restore")


def _reinserted_problem(tables: Rows, when: dict[str, float | None]) -> str | None:
    for table, rows in tables.items():
        at = when.get(table)
        late = writetimes.written_after(rows, at) if at else []
        if late:
            key = writetimes.key_text(writetimes.key_of(table, late[0]))
            return (f"{len(late)} of {len(rows)} rows of {KS}.{table} were written after the TRUNCATE at "
                    f"{writetimes.when_text(int(at * 1e6))} (e.g. {table[:-1]} {key}): inserted again, not restored; "
                    "rows restored from snapshot and backups/ keep the write times they had before the loss")
    return None


def _write_time_problem(ctx: CheckContext, tables: Rows, label: str = "") -> str | None:
    """Proves: every row carries the write time it had when step 7 recorded it (a SHA-256 over
    every key and write time, the snapshot's rows and backups/' rows apart). Cannot prove: rows
    re-inserted `USING TIMESTAMP` with the original times, read before the loss on purpose."""
    recorded = ctx.fact(WRITE_TIMES)
    if not recorded:
        return (f"{label}the rows' write times were never recorded in this lab run (step 7's check records them "
                "before the loss), so restored rows cannot be told from rows inserted again")
    actual = {t: writetimes.table_times(t, rows) for t, rows in tables.items()}
    for table in environment.TABLES:
        problem = writetimes.write_time_problem(table, recorded["tables"][table], actual[table], label)
        if problem:
            return problem
    return None


RESTORE_HINT = ("copy snapshots/full_backup_*/ and backups/ SSTables into each table folder on every node, "
                "then nodetool refresh each table on each node")


def _in_place_problem(ctx: CheckContext) -> str | None:
    """Why the lab cluster does not hold the restored backup, or None (steps 9 and end of lab)."""
    when = _truncations(ctx)
    tables = _read_tables(ctx, ctx.runtime, None)
    return (_loss_problem(ctx, when) or _fingerprint_problem(ctx, tables)
            or _reinserted_problem(tables, when) or _write_time_problem(ctx, tables))


@check(LAB, "restore")
def restored_in_place(ctx: CheckContext) -> None:
    """Proves: a loss (truncation) came after step 7 recorded the rows, every row of the backup is
    back with its contents, and each carries its original write time: the rows came back from the
    snapshot and backups/ SSTables, not from a new INSERT. See _write_time_problem for the limit."""
    problem = _in_place_problem(ctx)
    if problem:
        step7 = "step 7's check records them" in problem
        raise ctx.failed(problem, hint="check step 7 before the loss, then lose and restore again (steps 8-9)"
                         if step7 else RESTORE_HINT)
    raise ctx.passed("restored data equals the backup: every row of the snapshot and the incremental files, "
                     "with the write times it had before the loss")


def _running_restore_cluster(ctx: CheckContext) -> Runtime:
    target = ctx.restore_runtime
    if target is None or not any(target.is_running(n) for n in target.node_names()):
        raise ctx.failed("the restore cluster is not running", hint="./scripts/restore-cluster.sh up")
    return target


def _elsewhere_problem(ctx: CheckContext, target: Runtime) -> str | None:
    tables = _read_tables(ctx, target, target.node_names()[0])
    problem = _fingerprint_problem(ctx, tables)
    return f"restore cluster: {problem}" if problem else _write_time_problem(ctx, tables, "restore cluster: ")


@check(LAB, "new-cluster")
def restored_elsewhere(ctx: CheckContext) -> None:
    """Proves: the restore cluster holds every backed-up row, each with its original write time
    (sstableloader streams SSTables and keeps them; an INSERT there would not)."""
    target = _running_restore_cluster(ctx)
    node = target.node_names()[0]
    if not target.cql("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s",
                      [KS], node=node):
        raise ctx.failed(f"keyspace {KS} does not exist on the restore cluster",
                         hint="create the keyspace and the tables (schema.cql of the snapshot) there first")
    problem = _elsewhere_problem(ctx, target)
    if problem:
        raise ctx.failed(problem, hint="sstableloader every node's snapshot and backups into the restore cluster")
    raise ctx.passed("the new cluster holds exactly the backed-up data, with its original write times")


@check(LAB, "disable-backup")
def backup_disabled(ctx: CheckContext) -> None:
    # "Off" only means something after it was on everywhere: a passed step 7 in this lab run.
    if not ctx.passed_in_run("incremental-files"):
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
    """After the last step: both restores still hold exactly what was backed up, write times included."""
    target = _running_restore_cluster(ctx)
    problem = _in_place_problem(ctx)
    if problem:
        raise ctx.failed(f"lab cluster: {problem}")
    problem = _elsewhere_problem(ctx, target)
    if problem:
        raise ctx.failed(problem)
    rows = {t: f.rows for t, f in environment.expected_fingerprint(with_new_rows=True).items()}
    raise ctx.passed("restored data equals the backup on the lab cluster and the restore cluster "
                     f"(rows and SHA-256 per table: {', '.join(f'{t} {n}' for t, n in rows.items())}; "
                     "every row with its original write time)")
