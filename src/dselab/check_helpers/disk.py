"""Reading a node's data directory: table folders, snapshot folders, backups/ (shared by checks)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from dselab.check_engine import CheckContext
from dselab.check_helpers.sstables import (
    DATA,
    DIGEST,
    TOC,
    component_problems,
    digest_problem,
    group_components,
    toc_components,
)
from dselab.errors import EnvironmentProblem
from dselab.runtime.base import FileEntry

DATA_FILE = re.compile(r"^[a-z]{2}-[0-9a-z_]+-(big|bti)-Data\.db$")
TABLE_DIR = re.compile(r"^(?P<table>\w+)-(?P<id>[0-9a-f]{32})$")
SMALL_FILE = 64 * 1024  # TOC.txt and Digest.crc32 hold a few bytes: read no more
HASH_FILE_CAP = 32 * 1024 * 1024  # a larger Data.db is not hashed (the lab's are well under 1 MiB)
HASH_BUDGET = 128 * 1024 * 1024  # bytes one check hashes at most


@dataclass
class HashBudget:
    """What one check may still hash, and the Data.db files it left unhashed (noted as evidence)."""

    left: int = HASH_BUDGET
    skipped: list[str] = field(default_factory=list)


@dataclass
class TableFolder:
    """One table's folder under <data>/<keyspace>/ with what sits in it."""

    table: str
    folder: str  # relative to the data dir, e.g. training/orders-<id>
    live: list[FileEntry] = field(default_factory=list)
    snapshots: dict[str, list[FileEntry]] = field(default_factory=lambda: defaultdict(list))
    backups: list[FileEntry] = field(default_factory=list)

    def backup_data_files(self) -> list[FileEntry]:
        return [f for f in self.backups if DATA_FILE.match(f.path.rsplit("/", 1)[-1])]

    def snapshot_files(self, tag: str) -> list[FileEntry]:
        """The files directly in snapshots/<tag>/ (not in a secondary index's folder below it)."""
        return [f for f in self.snapshots.get(tag, []) if f.path.count("/") == self.folder.count("/") + 3]

    def live_data_inodes(self) -> set[int]:
        return {f.inode for f in self.live if f.inode and DATA_FILE.match(f.path.rsplit("/", 1)[-1])}


def table_folders(ctx: CheckContext, node: str, keyspace: str) -> dict[str, TableFolder]:
    """Every table folder of `keyspace` on `node`, keyed by table name (newest id wins)."""
    folders: dict[str, TableFolder] = {}
    for entry in ctx.files(node, keyspace):
        parts = entry.path.split("/")
        if len(parts) < 3:
            continue
        match = TABLE_DIR.match(parts[1])
        if not match:
            continue
        table = match.group("table")
        folder = folders.setdefault(table, TableFolder(table, f"{keyspace}/{parts[1]}"))
        if folder.folder != f"{keyspace}/{parts[1]}":
            continue  # an older folder of a dropped-and-recreated table
        rest = parts[2:]
        if rest[0] == "snapshots" and len(rest) >= 3:
            folder.snapshots[rest[1]].append(entry)
        elif rest[0] == "backups" and len(rest) == 2:
            folder.backups.append(entry)
        elif len(rest) == 1:
            folder.live.append(entry)
    return folders


def snapshot_problem(ctx: CheckContext, node: str, folder: TableFolder, tag: str,
                     budget: HashBudget | None = None) -> str | None:
    """Why snapshots/<tag>/ of this table is not a real nodetool snapshot, or None if it is: a
    manifest that lists files that are there, and whole SSTables (see sstables.py)."""
    files = folder.snapshots.get(tag)
    where = f"{folder.table} on {node}"
    if not files:
        return f"no snapshots/{tag}/ folder for training.{where}"
    names = {f.path.rsplit("/", 1)[-1] for f in files}
    if "manifest.json" not in names:
        return f"snapshots/{tag}/ of {where} has no manifest.json (nodetool snapshot always writes one)"
    try:
        manifest = json.loads(ctx.read_text(node, f"{folder.folder}/snapshots/{tag}/manifest.json"))
        listed = [str(name).rsplit("/", 1)[-1] for name in manifest.get("files", [])]
    except (ValueError, AttributeError):
        return f"manifest.json of {tag} for {where} is not valid JSON"
    if not listed:
        return f"manifest.json of {tag} for {where} lists no files"
    missing = [name for name in listed if name not in names]
    if missing:
        return f"manifest.json of {tag} for {where} lists files that are not there: {', '.join(missing[:3])}"
    if not any(DATA_FILE.match(name) for name in listed):
        return f"snapshot {tag} of {where} holds no SSTable Data file"
    problems = sstable_problems(ctx, node, folder.snapshot_files(tag), f"snapshot {tag} of {where}",
                                budget or HashBudget())
    return "; ".join(problems) if problems else None


def manifest_mtime(folder: TableFolder, tag: str) -> float | None:
    for entry in folder.snapshots.get(tag, []):
        if entry.path.endswith("/manifest.json"):
            return entry.mtime
    return None


def _read_small(ctx: CheckContext, node: str, relative: str) -> str:
    return ctx.read_bytes(node, relative, SMALL_FILE).decode("utf-8", "replace")


def _sstable_issues(ctx: CheckContext, node: str, prefix: str, present: dict[str, int],
                    budget: HashBudget) -> list[str]:
    """Why one SSTable (its files start with `prefix`) is not whole, or its Data.db not the one
    its Digest.crc32 describes; [] when it is whole and matches (or is too big to hash here)."""
    toc = toc_components(_read_small(ctx, node, prefix + TOC)) if TOC in present else None
    issues = component_problems(present, toc)
    if issues or DIGEST not in present:  # other digests (3.0's adler32, 2.x's sha1) are not hashed
        return issues
    size = present[DATA]
    if size > min(HASH_FILE_CAP, budget.left):
        budget.skipped.append(prefix + DATA)
        return []
    budget.left -= size
    data = ctx.read_bytes(node, prefix + DATA, size)
    problem = digest_problem(data, _read_small(ctx, node, prefix + DIGEST))
    return [problem] if problem else []


def sstable_problems(ctx: CheckContext, node: str, entries: list[FileEntry], where: str,
                     budget: HashBudget) -> list[str]:
    """Why the SSTables among `entries` (files of one folder) are not whole SSTables, each named
    with `where` ("backups/ of training.orders on dse-seed"); [] when every one is."""
    if not entries:
        return []
    folder = entries[0].path.rsplit("/", 1)[0]
    problems = []
    for sstable, present in sorted(group_components({e.path.rsplit("/", 1)[-1]: e.size for e in entries}).items()):
        try:
            issues = _sstable_issues(ctx, node, f"{folder}/{sstable}-", present, budget)
        except (OSError, EnvironmentProblem) as err:  # vanished, or refused: a FIFO, a link, too big
            issues = [f"could not be read ({type(err).__name__}: {str(err)[:120]})"]
        problems += [f"{where}: {sstable} {issue}" for issue in issues]
    if budget.skipped:
        ctx.note(node=node, not_hashed_over_cap=budget.skipped[-20:])
    return problems
