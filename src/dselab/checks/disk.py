"""Reading a node's data directory: table folders, snapshot folders, backups/ (shared by checks)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from dselab.checking import CheckContext
from dselab.runtime.base import FileEntry

DATA_FILE = re.compile(r"^[a-z]{2}-[0-9a-z_]+-(big|bti)-Data\.db$")
TABLE_DIR = re.compile(r"^(?P<table>\w+)-(?P<id>[0-9a-f]{32})$")


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


def snapshot_problem(ctx: CheckContext, node: str, folder: TableFolder, tag: str) -> str | None:
    """Why snapshots/<tag>/ of this table is not a real nodetool snapshot, or None if it is."""
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
    return None


def manifest_mtime(folder: TableFolder, tag: str) -> float | None:
    for entry in folder.snapshots.get(tag, []):
        if entry.path.endswith("/manifest.json"):
            return entry.mtime
    return None
