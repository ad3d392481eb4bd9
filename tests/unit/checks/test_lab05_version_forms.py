"""Lab 05's cleanup and snapshot-all checks on what 3.11 / DSE 5.1 and 5.0 print.

A fake runtime hands the checks the output fixtures (3.11 ones composed from the source's format
definitions, 5.0 ones captured from the real cluster) and answers `date +%z` and `ls` as a node
would: the checks' own reading is what is tested, not the fixtures.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from dselab.check_engine import CheckContext, CheckResult, run_check
from dselab.runtime.base import LAB_NODES, CommandResult, FileEntry
from dselab.state import StateStore
from fake_sstables import sstable_files
from shipped_content import shipped_lab

FIXTURES = Path(__file__).parent.parent / "fixtures"
ADDRESSES = dict(zip(LAB_NODES, ("127.0.65.1", "127.0.65.2", "127.0.65.3"), strict=True))
TABLE_IDS = {"customers": "08a1b6e0e8b011f187a8cb64ad7c47c2", "orders": "0953a1c0e8b011f187a8cb64ad7c47c2"}
KEYSPACE_FOLDERS = ["system", "system_auth", "system_distributed", "system_schema", "system_traces", "training"]
TABLESTATS = ("tablestats", "-F", "json", "training")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def utc(stamp: str) -> float:
    return calendar.timegm(tuple(int(x) for x in stamp.replace("-", " ").replace(":", " ").split()) + (0, 0, 0))


def tablestats(template: str, partitions: int) -> str:
    data = json.loads(template[template.index("{"):])
    for metrics in data["training"]["tables"].values():
        metrics["number_of_partitions_estimate"] = partitions
    return json.dumps(data)


class FakeNodes:
    """The few runtime reads the checks make, answered from fixtures."""

    name = "fake"

    def __init__(self, version: str, zone: str) -> None:
        self.version, self.zone = version, zone
        self.logs: dict[str, str] = {}
        self.nodetool_out: dict[tuple[str, tuple[str, ...]], str] = {}
        self.files: dict[str, list[FileEntry]] = {n: [] for n in LAB_NODES}
        self.contents: dict[tuple[str, str], bytes] = {}
        self.folders = list(KEYSPACE_FOLDERS)
        self.inodes = 100

    def cassandra_version(self) -> str:
        return self.version

    def address(self, node: str) -> str:
        return ADDRESSES[node]

    def exec(self, node: str, argv: Sequence[str], workdir: str | None = None) -> CommandResult:
        out = {("date", "+%z"): self.zone + "\n", ("ls", "-1"): "\n".join(self.folders) + "\n"}[tuple(argv)]
        return CommandResult(tuple(argv), 0, out, "")

    def log_since(self, node: str, mark: int, debug: bool = True) -> str:
        return self.logs.get(node, "")

    def nodetool(self, node: str, args: Sequence[str], timeout: float = 300) -> CommandResult:
        key = (node, tuple(args))
        out = self.nodetool_out.get(key, self.nodetool_out.get(("*", tuple(args))))
        if out is None:
            raise AssertionError(f"unexpected nodetool call {key}")
        return CommandResult(("nodetool", *args), 0, out, "")

    def list_files(self, node: str, relative: str = "") -> list[FileEntry]:
        return [e for e in self.files[node] if e.path.startswith(relative + "/")]

    def read_bytes(self, node: str, relative: str, limit: int) -> bytes:
        return self.contents[(node, relative)][:limit]

    def read_text(self, node: str, relative: str) -> str:
        return self.contents[(node, relative)].decode()

    def add(self, node: str, path: str, content: bytes, mtime: float, inode: int | None = None) -> int:
        """One file (a hard link of `inode` when given); its inode."""
        if inode is None:
            self.inodes += 1
            inode = self.inodes
        self.files[node].append(FileEntry(path, len(content), mtime, inode))
        self.contents[(node, path)] = content
        return inode

    def snapshot(self, node: str, keyspace: str, table: str, tag: str, at: float, sstable: str = "nb-2-big",
                 live: bool = True) -> None:
        """A nodetool snapshot: hard links of a live SSTable (gone since, unless `live`), a manifest."""
        folder = f"{keyspace}/{table}-{TABLE_IDS[table]}"
        files = sstable_files(sstable)
        for name, content in files.items():
            inode = self.add(node, f"{folder}/{name}", content, at - 600)
            if not live:  # compaction or cleanup removed the live file: the snapshot's link is the last
                self.files[node].pop()
            self.add(node, f"{folder}/snapshots/{tag}/{name}", content, at - 600, inode)
        manifest = json.dumps({"files": sorted(files)}).encode()
        self.add(node, f"{folder}/snapshots/{tag}/manifest.json", manifest, at)


def check(nodes: FakeNodes, step: str, tmp_path: Path) -> CheckResult:
    lab = shipped_lab("05")
    ctx = CheckContext(runtime=nodes, store=StateStore(tmp_path / "state.sqlite"), lab=lab,  # type: ignore[arg-type]
                       baseline={"started_at": utc("2026-11-25 00:00:00"), "log_marks": {}})
    return run_check(ctx, lab.step(step))


def snapshot_training(nodes: FakeNodes, node: str, tag: str, at: float) -> None:
    for table in TABLE_IDS:
        nodes.snapshot(node, "training", table, tag, at)


# -- cleanup ---------------------------------------------------------------------------------

def dse51_after_cleanup(zone: str) -> FakeNodes:
    """DSE 5.1: dse-seed and dse-node-1 rewrote SSTables; dse-node-2 had nothing to clean."""
    nodes = FakeNodes("3.11.17", zone)
    nodes.logs = {"dse-seed": fixture("cleanup-3.11-with-work.log"), "dse-node-1": fixture("cleanup-3.11-with-work.log"),
                  "dse-node-2": fixture("cleanup-3.11-nothing-to-clean.log")}
    nodes.nodetool_out[("dse-seed", ("status", "training"))] = fixture("status-3.11-vnodes.txt")
    for node, share in zip(LAB_NODES, (0.674, 0.644, 0.682), strict=True):
        nodes.nodetool_out[(node, TABLESTATS)] = tablestats(fixture("tablestats-3.11.json"), int(share * 4000))
    return nodes


def test_311_cleanup_passes_with_log_lines_read_in_the_nodes_zone(tmp_path):
    """Cleanup logged 11:41 in +05:30 (06:11 UTC); the snapshot was taken at 06:20 UTC, after it."""
    nodes = dse51_after_cleanup("+0530")
    snapshot_training(nodes, "dse-seed", "after_cleanup", utc("2026-11-25 06:20:00"))
    result = check(nodes, "cleanup", tmp_path)
    assert result.passed, result.message
    assert "snapshot after_cleanup was taken after it" in result.message
    assert "dse-node-2 logged no cleanup line (3.11 / DSE 5.1 log nothing for a node with nothing to clean)" \
        in result.message
    assert {"data_level_proof_for": ["dse-node-2"]} in result.evidence


def test_311_cleanup_in_a_zone_west_of_utc_ends_after_that_snapshot(tmp_path):
    """The same log in -04:00 means 15:41 UTC: a snapshot at 06:20 UTC came before the cleanup."""
    nodes = dse51_after_cleanup("-0400")
    snapshot_training(nodes, "dse-seed", "after_cleanup", utc("2026-11-25 06:20:00"))
    result = check(nodes, "cleanup", tmp_path)
    assert "no training snapshot on dse-seed was taken after it finished" in result.message


def test_311_node_that_skipped_cleanup_and_still_holds_foreign_data_fails(tmp_path):
    nodes = dse51_after_cleanup("+0000")
    nodes.logs["dse-seed"] = fixture("cleanup-3.11-nothing-to-clean.log")
    nodes.nodetool_out[("dse-seed", TABLESTATS)] = tablestats(fixture("tablestats-3.11.json"), 4000)
    result = check(nodes, "cleanup", tmp_path)
    assert result.status == "fail"
    assert result.message.startswith("cleanup has not run on dse-seed since the lab started: "
                                     "dse-seed still holds ~4000 partitions of training.")
    assert result.hint == "./scripts/nodetool.sh cleanup"


def test_50_node_without_a_cleanup_line_has_not_run_it(tmp_path):
    """5.0 logs every cleanup, even with nothing to clean: no line means no cleanup, whatever the data."""
    nodes = FakeNodes("5.0.9", "+0000")
    nodes.logs = {"dse-seed": fixture("cleanup-5.0-with-work.log"), "dse-node-1": fixture("cleanup-5.0-with-work.log")}
    result = check(nodes, "cleanup", tmp_path)
    assert result.message == "cleanup has not run on dse-node-2 since the lab started"
    nodes.logs["dse-node-2"] = fixture("cleanup-5.0-nothing-to-clean.log")
    nodes.nodetool_out[("dse-seed", ("status", "training"))] = fixture("status-3.11-vnodes.txt")
    nodes.nodetool_out[("*", TABLESTATS)] = fixture("tablestats-5.0.json")
    snapshot_training(nodes, "dse-seed", "after_cleanup", utc("2026-11-25 09:30:00"))
    result = check(nodes, "cleanup", tmp_path)
    assert result.passed and "logged no cleanup line" not in result.message, result.message


def dse50_after_cleanup() -> FakeNodes:
    """5.0: dse-seed and dse-node-1 rewrote nb-1 into nb-2 (09:11 UTC); dse-node-2 had nothing to clean."""
    nodes = FakeNodes("5.0.9", "+0000")
    nodes.logs = {"dse-seed": fixture("cleanup-5.0-with-work.log"), "dse-node-1": fixture("cleanup-5.0-with-work.log"),
                  "dse-node-2": fixture("cleanup-5.0-nothing-to-clean.log")}
    nodes.nodetool_out[("dse-seed", ("status", "training"))] = fixture("status-3.11-vnodes.txt")
    nodes.nodetool_out[("*", TABLESTATS)] = fixture("tablestats-5.0.json")
    return nodes


def test_50_touching_the_manifest_of_a_snapshot_from_before_cleanup_does_not_make_it_after(tmp_path):
    """full_backup_20261125 was taken at 08:00, before cleanup rewrote nb-1; then `touch manifest.json`."""
    nodes = dse50_after_cleanup()
    for table in TABLE_IDS:
        nodes.snapshot("dse-seed", "training", table, "full_backup_20261125", utc("2026-11-25 08:00:00"),
                       sstable="nb-1-big", live=False)
    for i, entry in enumerate(nodes.files["dse-seed"]):
        if entry.path.endswith("/manifest.json"):  # touch: a manifest time after the cleanup
            nodes.files["dse-seed"][i] = FileEntry(entry.path, entry.size, utc("2026-11-25 09:30:00"), entry.inode)
    result = check(nodes, "cleanup", tmp_path)
    assert result.status == "fail"
    assert result.message.startswith("cleanup ran on all three nodes, but no training snapshot on dse-seed "
                                     "holds what cleanup left: full_backup_20261125 holds training.")
    assert "nb-1-big-Data.db, which cleanup rewrote: it was taken before cleanup" in result.message
    snapshot_training(nodes, "dse-seed", "after_cleanup", utc("2026-11-25 09:40:00"))  # links nb-2, the live one
    result = check(nodes, "cleanup", tmp_path)
    assert result.passed and "snapshot after_cleanup was taken after it" in result.message, result.message


def test_50_a_snapshot_whose_sstable_is_gone_but_newer_than_cleanups_still_counts(tmp_path):
    """Taken after cleanup, its nb-2 since compacted away: its generation shows it came after."""
    nodes = dse50_after_cleanup()
    for table in TABLE_IDS:
        nodes.snapshot("dse-seed", "training", table, "after_cleanup", utc("2026-11-25 09:30:00"), live=False)
    assert check(nodes, "cleanup", tmp_path).passed


def test_50_an_emptied_data_file_in_the_snapshot_after_cleanup_is_named(tmp_path):
    nodes = dse50_after_cleanup()
    snapshot_training(nodes, "dse-seed", "after_cleanup", utc("2026-11-25 09:30:00"))
    emptied = "snapshots/after_cleanup/nb-2-big-Data.db"  # replaced by an empty file of that name
    nodes.files["dse-seed"] = [FileEntry(e.path, 0, e.mtime, 999) if e.path.endswith(emptied) else e
                               for e in nodes.files["dse-seed"]]
    result = check(nodes, "cleanup", tmp_path)
    assert "snapshot after_cleanup of customers on dse-seed: nb-2-big Data.db is empty" in result.message


# -- snapshot-all ----------------------------------------------------------------------------

UNEVEN = ("full_backup_20261125training                     ", "full_backup_20261125training                    ")


def full_backup_everywhere(listing: str) -> FakeNodes:
    nodes = FakeNodes("3.11.17", "+0000")
    nodes.nodetool_out[("*", ("listsnapshots",))] = listing
    for node in LAB_NODES:
        snapshot_training(nodes, node, "full_backup_20261125", utc("2026-11-25 11:00:00"))
    return nodes


@pytest.mark.parametrize("name", ["listsnapshots-3.11-fixed-width.txt", "listsnapshots-3.11-table-builder.txt",
                                  "listsnapshots-5.0-full-backup.txt"])
def test_snapshot_all_passes_with_a_20_character_tag_in_every_form(tmp_path, name):
    result = check(full_backup_everywhere(fixture(name)), "snapshot-all", tmp_path)
    assert result.passed, result.message


def test_snapshot_all_confirms_an_unclear_tag_from_the_snapshot_folders_on_disk(tmp_path):
    """Uneven padding, and two keyspace folders that both end the joined name ("training",
    "raining"): only training/<table>/snapshots/full_backup_20261125/ exists on disk."""
    nodes = full_backup_everywhere(fixture("listsnapshots-3.11-fixed-width.txt").replace(*UNEVEN))
    nodes.folders.append("raining")
    result = check(nodes, "snapshot-all", tmp_path)
    assert result.passed, result.message
    listed = {e["listing"] for e in result.evidence if "listing" in e}
    assert {"training", "raining"} <= listed


def test_snapshot_all_wants_whole_sstables_on_disk(tmp_path):
    """A line appended to a Data.db of the snapshot: its CRC32 no longer matches Digest.crc32."""
    nodes = full_backup_everywhere(fixture("listsnapshots-5.0-full-backup.txt"))
    path = next(e.path for e in nodes.files["dse-node-1"] if e.path.endswith("full_backup_20261125/nb-2-big-Data.db"))
    nodes.contents[("dse-node-1", path)] += b"appended\n"
    nodes.files["dse-node-1"] = [FileEntry(e.path, len(nodes.contents[("dse-node-1", e.path)]), e.mtime, e.inode)
                                 for e in nodes.files["dse-node-1"]]
    result = check(nodes, "snapshot-all", tmp_path)
    assert result.status == "fail"
    assert "snapshot full_backup_20261125 of" in result.message and "on dse-node-1: nb-2-big has a Data.db whose CRC32" \
        in result.message


def test_snapshot_all_fails_when_the_disk_cannot_confirm_the_tag(tmp_path):
    nodes = full_backup_everywhere(fixture("listsnapshots-3.11-fixed-width.txt").replace(*UNEVEN))
    nodes.folders.append("raining")
    nodes.files = {n: [] for n in LAB_NODES}
    result = check(nodes, "snapshot-all", tmp_path)
    assert result.status == "fail" and "does not cover all keyspaces" in result.message
