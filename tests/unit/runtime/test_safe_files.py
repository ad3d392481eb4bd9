"""Reads of a node's files that the folder's owner cannot turn against the reader: links anywhere
are refused, FIFOs never block, sparse giants and folder floods stay within their caps."""

from __future__ import annotations

import os
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from dselab.runtime import safe_files
from dselab.runtime.safe_files import RefusedPath, list_capped, read_capped, read_whole, size_below

SECRET = "course key 0123456789abcdef\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A node-like tree, and a secret outside it that links will point at (the tmp folder with its
    links resolved, as a runtime's anchor is: macOS's /var is one)."""
    tmp_path = safe_files.anchor(tmp_path)
    (tmp_path / "secret.key").write_text(SECRET)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "manifest.json").write_text(SECRET)
    node = tmp_path / "node"
    (node / "data" / "ks" / "t-1" / "snapshots" / "tag").mkdir(parents=True)
    (node / "data" / "ks" / "t-1" / "nb-1-big-Data.db").write_bytes(b"d" * 10)
    (node / "data" / "ks" / "t-1" / "snapshots" / "tag" / "manifest.json").write_text('{"files": []}')
    (node / "logs").mkdir()
    return node


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail, instead of hanging the run, if a read blocks (a FIFO opened without O_NONBLOCK would)."""
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("the read blocked")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_a_plain_file_is_read_and_listed(root: Path) -> None:
    assert read_whole(root, "data/ks/t-1/snapshots/tag/manifest.json", 100) == b'{"files": []}'
    listing = list_capped(root, "data/ks")
    assert sorted(e.path for e in listing) == ["t-1/nb-1-big-Data.db", "t-1/snapshots/tag/manifest.json"]
    assert listing.truncated == "" and listing[0].links == 1
    assert len(list_capped(root / "data", "")) == 2  # the root itself
    with pytest.raises(RefusedPath, match="not a regular file"):
        read_whole(root, "", 100)


def test_a_link_in_the_middle_of_a_path_is_refused(root: Path) -> None:
    snapshots = root / "data" / "ks" / "t-1" / "snapshots"
    (snapshots / "evil").symlink_to(root.parent / "elsewhere")
    with pytest.raises(RefusedPath, match="snapshots/evil is a symbolic link"):
        read_whole(root, "data/ks/t-1/snapshots/evil/manifest.json", 100)
    assert not [e for e in list_capped(root, "data") if "evil" in e.path]  # never entered


def test_a_link_as_the_final_component_is_refused(root: Path) -> None:
    (root / "logs" / "output.log").symlink_to(root.parent / "secret.key")
    with pytest.raises(RefusedPath, match="output.log is a symbolic link"):
        read_capped(root, "logs/output.log", 0, 100)
    with pytest.raises(RefusedPath):
        size_below(root, "logs/output.log")
    (root / "logs" / "dir-link").symlink_to(root.parent / "elsewhere")
    with pytest.raises(RefusedPath, match="dir-link is a symbolic link"):
        list_capped(root, "logs/dir-link")


def test_a_link_loop_is_harmless(root: Path) -> None:
    (root / "data" / "loop").symlink_to("loop")  # ln -s loop loop
    (root / "data" / "ks" / "t-1" / "up").symlink_to("..")
    assert len(list_capped(root, "data")) == 2  # neither loop is entered; no RuntimeError
    for path in ("data/loop", "data/loop/x", "data/ks/t-1/up/t-1/nb-1-big-Data.db"):
        with pytest.raises(RefusedPath):
            read_whole(root, path, 100)


def test_a_fifo_is_refused_without_blocking(root: Path, no_hang: None) -> None:
    os.mkfifo(root / "logs" / "system.log")  # no writer: a blocking open would wait for ever
    with pytest.raises(RefusedPath, match="not a regular file"):
        read_capped(root, "logs/system.log", 0, 100)
    with pytest.raises(RefusedPath, match="not a regular file"):
        read_whole(root, "logs/system.log", 100)
    os.mkfifo(root / "data" / "ks" / "pipe")
    assert "pipe" not in {e.path for e in list_capped(root, "data/ks")}


def test_a_20_gib_sparse_file_is_read_within_the_cap(root: Path) -> None:
    giant = root / "logs" / "debug.log"
    with giant.open("wb") as fh:
        fh.truncate(20 << 30)  # truncate -s 20G: no disk used, but 20 GiB to a naive reader
    tracemalloc.start()
    try:
        chunk = read_capped(root, "logs/debug.log", 0, 1 << 20)
        with pytest.raises(RefusedPath, match="larger than"):
            read_whole(root, "logs/debug.log", 1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(chunk.data) == 1 << 20 and chunk.skipped == (20 << 30) - (1 << 20)
    assert peak < 8 << 20


def test_a_log_read_from_a_mark_keeps_the_last_cap_bytes(root: Path) -> None:
    (root / "logs" / "debug.log").write_bytes(b"a" * 100 + b"b" * 50)
    assert read_capped(root, "logs/debug.log", 20, 1000) == safe_files.Chunk(b"a" * 80 + b"b" * 50, 0)
    assert read_capped(root, "logs/debug.log", 20, 50) == safe_files.Chunk(b"b" * 50, 80)
    assert read_capped(root, "logs/debug.log", 500, 50) == safe_files.Chunk(b"", 0)  # mark past the end
    assert size_below(root, "logs/debug.log") == 150 and size_below(root, "logs/missing.log") == 0


def test_a_folder_flood_stops_at_the_entry_cap(root: Path) -> None:
    snapshots = root / "data" / "ks" / "t-1" / "snapshots"
    for i in range(300):
        (snapshots / f"fake-{i}").mkdir()
    listing = list_capped(root, "data", max_entries=100)
    assert listing.truncated == "stopped after 100 entries" and len(listing) <= 100
    assert len(list_capped(root, "data")) == 2  # the default cap holds the lab's real trees


def test_a_deep_tree_stops_at_the_depth_cap(root: Path) -> None:
    deep = root / "data" / "ks"
    for i in range(12):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "bottom.db").write_text("x")
    listing = list_capped(root, "data", max_depth=8)
    assert "levels not listed" in listing.truncated
    assert not [e for e in listing if e.path.endswith("bottom.db")]
    assert len([e for e in listing if e.path.startswith("ks/t-1/")]) == 2  # siblings still listed


def test_a_file_swapped_for_a_link_between_listing_and_reading_is_refused(root: Path) -> None:
    listing = list_capped(root, "data/ks")
    assert "t-1/snapshots/tag/manifest.json" in {e.path for e in listing}
    manifest = root / "data" / "ks" / "t-1" / "snapshots" / "tag" / "manifest.json"
    manifest.unlink()
    manifest.symlink_to(root.parent / "secret.key")
    with pytest.raises(RefusedPath):
        read_whole(root, "data/ks/t-1/snapshots/tag/manifest.json", 1000)
    tag = manifest.parent  # the folder itself swapped: the walk refuses the link, not what it points at
    os.rename(tag, root / "old-tag")
    tag.symlink_to(root.parent / "elsewhere")
    with pytest.raises(RefusedPath, match="snapshots/tag is a symbolic link"):
        read_whole(root, "data/ks/t-1/snapshots/tag/manifest.json", 1000)


def test_a_folder_above_the_node_swapped_for_a_link_is_refused(root: Path) -> None:
    """The anchor is walked from / without following links too: a seat that swaps its cluster
    folder for a link after the runtime was made redirects nothing."""
    os.rename(root, root.parent / "node-real")
    root.symlink_to(root.parent / "node-real")
    with pytest.raises(RefusedPath, match="node is a symbolic link"):
        read_whole(root, "data/ks/t-1/snapshots/tag/manifest.json", 100)
    with pytest.raises(RefusedPath):
        list_capped(root, "data")
    assert read_whole(safe_files.anchor(root), "data/ks/t-1/snapshots/tag/manifest.json", 100)  # resolved: fine


@pytest.mark.parametrize("path", ["../secret.key", "/etc/passwd", "data/../../secret.key"])
def test_paths_that_leave_the_root_are_refused(root: Path, path: str) -> None:
    with pytest.raises(RefusedPath):
        read_whole(root, path, 100)


def test_copy_into_copies_a_regular_file_and_writes_through_no_link(root: Path) -> None:
    dest = root / "data" / "ks" / "t-1"
    source = root / "data" / "ks" / "t-1" / "snapshots" / "tag" / "manifest.json"
    os.utime(source, (1_000_000, 1_000_000))
    with safe_files.opened_below(root, "data/ks/t-1", directory=True) as folder:
        safe_files.copy_into(root, "data/ks/t-1/snapshots/tag/manifest.json", folder)
        assert (dest / "manifest.json").read_text() == '{"files": []}'
        assert (dest / "manifest.json").stat().st_mtime == 1_000_000
        (dest / "manifest.json").unlink()
        (dest / "manifest.json").symlink_to(root.parent / "secret.key")
        with pytest.raises(OSError):
            safe_files.copy_into(root, "data/ks/t-1/snapshots/tag/manifest.json", folder)
    assert (root.parent / "secret.key").read_text() == SECRET
