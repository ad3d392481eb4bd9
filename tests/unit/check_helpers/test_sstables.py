"""SSTable components, TOC.txt and Data.db digests: what a `touch`ed file lacks (pure logic)."""

from __future__ import annotations

import zlib

from dselab.check_helpers.sstables import (
    component_problems,
    digest_problem,
    generation_key,
    group_components,
    parse_name,
    predating_files,
    toc_components,
)
from fake_sstables import COMPONENTS, sstable_files

WHOLE = {name.split("-big-")[1]: len(content) for name, content in sstable_files("nb-2-big").items()}
TOC = set(COMPONENTS)


def test_names_of_every_version_and_generation_kind() -> None:
    assert parse_name("nb-1-big-Data.db").sstable == "nb-1-big"
    assert parse_name("mc-6-big-TOC.txt").component == "TOC.txt"
    uuid = parse_name("nb-3gxk_0s2x_1d9ww2g4d5ttvr1a8v-big-Digest.crc32")
    assert uuid and uuid.generation == "3gxk_0s2x_1d9ww2g4d5ttvr1a8v" and uuid.component == "Digest.crc32"
    assert parse_name("da-1-bti-Rows.db").sstable == "da-1-bti"
    assert parse_name("manifest.json") is None and parse_name("schema.cql") is None


def test_files_group_by_sstable_and_other_files_are_left_out() -> None:
    groups = group_components({"nb-1-big-Data.db": 10, "nb-1-big-TOC.txt": 5, "nb-2-big-Data.db": 0,
                               "manifest.json": 60})
    assert groups == {"nb-1-big": {"Data.db": 10, "TOC.txt": 5}, "nb-2-big": {"Data.db": 0}}


def test_a_whole_sstable_has_no_problem() -> None:
    assert toc_components("CompressionInfo.db\nData.db\n\n TOC.txt \n") == {"CompressionInfo.db", "Data.db", "TOC.txt"}
    assert component_problems(WHOLE, TOC) == []


def test_a_touched_empty_data_file_names_the_toc_it_lacks_and_that_it_is_empty() -> None:
    assert component_problems({"Data.db": 0}, None) == [
        "has no TOC.txt (the list of its components Cassandra writes with every SSTable)", "Data.db is empty"]


def test_missing_extra_and_empty_components_are_each_named() -> None:
    present = {**WHOLE, "Index.db": 0, "Extra.db": 3}
    del present["Filter.db"], present["Summary.db"]
    assert component_problems(present, TOC) == [
        "lacks Filter.db, Summary.db (named in its TOC.txt)",
        "has Extra.db, which its TOC.txt does not name",
        "Index.db is empty",
    ]
    assert component_problems({"Data.db": 5, "TOC.txt": 0}, set()) == ["has an empty TOC.txt"]
    assert component_problems({"TOC.txt": 8, "Index.db": 3}, {"TOC.txt", "Index.db"}) == [
        "has a TOC.txt that names no Data.db"]


def test_data_must_match_the_crc32_in_its_digest() -> None:
    data = b"\x00\x01partitions\xff" * 50
    assert digest_problem(data, f"{zlib.crc32(data)}") is None
    assert digest_problem(data, f"{zlib.crc32(data)}\n") is None
    appended = digest_problem(data + b"x\n", str(zlib.crc32(data)))
    assert appended and "whose CRC32" in appended and str(zlib.crc32(data)) in appended
    assert digest_problem(data, "") == "has a Digest.crc32 that holds no CRC32 ('')"
    assert "holds no CRC32" in (digest_problem(data, "99999999999") or "")


def test_generations_order_as_numbers_and_uuid_ids_as_strings_apart() -> None:
    assert generation_key("10") > generation_key("9")
    assert generation_key("3gxk_0s2x_1d9ww2g4d5ttvr1a8v") < generation_key("3gxk_0s2y_0000000000000000000")
    assert generation_key("3gxk_0s2x_1d9ww2g4d5ttvr1a8v")[0] != generation_key("99")[0]


def test_a_snapshot_after_cleanup_holds_live_links_or_what_cleanup_wrote_and_later() -> None:
    rewritten, written = {"nb-1-big-Data.db"}, {"nb-2-big-Data.db"}
    # Right after: a hard link of the live SSTable cleanup wrote.
    assert predating_files({"nb-2-big-Data.db": 7}, {7}, rewritten, written) == []
    # Later, compaction replaced the live files: still not older than what cleanup wrote.
    assert predating_files({"nb-2-big-Data.db": 7, "nb-3-big-Data.db": 8}, {9}, rewritten, written) == []
    # A snapshot from before: it holds the SSTable cleanup rewrote (touching its manifest changes nothing).
    assert predating_files({"nb-1-big-Data.db": 4}, {7}, rewritten, written) == ["nb-1-big-Data.db"]
    # Older than what cleanup wrote and no longer live.
    assert predating_files({"nb-0-big-Data.db": 3}, {7}, rewritten, written) == ["nb-0-big-Data.db"]


def test_without_cleanup_lines_only_live_links_count() -> None:
    """3.11 with nothing to clean logs nothing: a snapshot holding today's live SSTables is what
    cleanup left; one whose files are gone cannot be placed, so it does not count."""
    assert predating_files({"mc-1-big-Data.db": 5}, {5}, set(), set()) == []
    assert predating_files({"mc-1-big-Data.db": 5}, {6}, set(), set()) == ["mc-1-big-Data.db"]
    assert predating_files({"mc-1-big-Data.db": 0}, {0}, set(), set()) == ["mc-1-big-Data.db"]  # inode unknown
