"""Node logs: times read in the node's zone; cleanup lines of 3.11 / DSE 5.1 and 5.0.

*-5.0* fixtures are excerpts of the lab's real 5.0.9 system.log; *-3.11* ones are composed from
3.11's CompactionManager messages and its logback pattern (docs/versions.md).
"""

import calendar
from pathlib import Path

import pytest

from dselab.cassandra_log import (
    cleanup_always_logged,
    cleanup_evidence,
    parse_log,
    parse_utc_offset,
)
from dselab.errors import UnreadableOutput

FIXTURES = Path(__file__).parent / "fixtures"


def log(name: str, utc_offset: int = 0):
    return parse_log((FIXTURES / name).read_text(), utc_offset)


def utc(stamp: str) -> float:
    return calendar.timegm(tuple(int(x) for x in stamp.replace("-", " ").replace(":", " ").split()) + (0, 0, 0))


def test_utc_offsets_as_date_prints_them():
    assert parse_utc_offset("+0000\n") == 0
    assert parse_utc_offset("+0530") == 5 * 3600 + 30 * 60
    assert parse_utc_offset("-0400\n") == -4 * 3600
    with pytest.raises(UnreadableOutput, match="not a UTC offset"):
        parse_utc_offset("date: command not found")


def test_log_times_are_read_in_the_nodes_zone():
    """A node in +05:30 writes 11:41:07,805 for 06:11:07.805 UTC."""
    lines = log("cleanup-3.11-with-work.log", parse_utc_offset("+0530"))
    assert lines[-1].at == utc("2026-11-25 06:11:07") + 0.805
    assert lines[0].thread == "CompactionExecutor:2"
    assert lines[0].message.startswith("Cleaning up BigTableReader(path='/var/lib/cassandra/data/training/")


def test_311_cleanup_with_work_finishes_at_its_last_cleaned_up_line():
    evidence = cleanup_evidence(log("cleanup-3.11-with-work.log", -4 * 3600), "training")
    assert evidence.finished_at == utc("2026-11-25 15:41:07") + 0.805
    assert len(evidence.lines) == 4  # two "Cleaning up", two "Cleaned up to"; not the unrelated DEBUG line


def test_311_table_without_sstables_logs_no_sstables_to_cleanup():
    evidence = cleanup_evidence(log("cleanup-3.11-no-sstables.log"), "training")
    assert evidence.finished_at == utc("2026-11-25 11:42:30") + 0.020


def test_311_node_with_nothing_to_clean_leaves_no_evidence():
    """3.11 skips a fully owned SSTable with a TRACE line and drops a foreign one silently."""
    evidence = cleanup_evidence(log("cleanup-3.11-nothing-to-clean.log"), "training")
    assert evidence.finished_at is None and evidence.lines == []


def test_50_cleanup_with_work_real_log():
    evidence = cleanup_evidence(log("cleanup-5.0-with-work.log"), "training")
    assert evidence.finished_at == utc("2026-11-25 09:11:51") + 0.619  # "Completed Cleanup with status SUCCESSFUL"
    assert any("Cleaned up to" in line for line in evidence.lines)


@pytest.mark.parametrize("name, took, wrote", [("cleanup-5.0-with-work.log", "nb-1-big-Data.db", "nb-2-big-Data.db"),
                                               ("cleanup-3.11-with-work.log", "mc-1-big-Data.db", "mc-3-big-Data.db")])
def test_cleanup_names_the_sstables_it_rewrote_and_wrote_per_table_folder(name, took, wrote):
    evidence = cleanup_evidence(log(name), "training")
    folder = "orders-0953a1c0e8b011f187a8cb64ad7c47c2"
    assert evidence.rewritten[folder] == {took} and evidence.written[folder] == {wrote}
    assert set(evidence.rewritten) == set(evidence.written) == {folder, "customers-08a1b6e0e8b011f187a8cb64ad7c47c2"}


def test_a_dropped_sstable_counts_as_rewritten():
    line = ("INFO  [CompactionExecutor:1] 2026-11-25 09:11:51,192 CompactionManager.java:600 - SSTable "
            "BigTableReader:big(path='/d/training/orders-0953a1c0e8b011f187a8cb64ad7c47c2/nb-4-big-Data.db') "
            "does not intersect the owned ranges ([]), dropping it")
    evidence = cleanup_evidence(parse_log(line), "training")
    assert evidence.rewritten == {"orders-0953a1c0e8b011f187a8cb64ad7c47c2": {"nb-4-big-Data.db"}}
    assert evidence.written == {}


def test_50_node_with_nothing_to_clean_still_logs_its_cleanup_real_log():
    evidence = cleanup_evidence(log("cleanup-5.0-nothing-to-clean.log"), "training")
    assert evidence.finished_at == utc("2026-11-25 09:11:53") + 0.332
    assert any("Skipping cleanup for 2/2 sstables for training.orders" in line for line in evidence.lines)


def test_50_aborted_cleanup_is_started_not_finished():
    text = (FIXTURES / "cleanup-5.0-nothing-to-clean.log").read_text().splitlines()
    aborted = [text[0], text[-1].replace("SUCCESSFUL", "ABORTED")]
    evidence = cleanup_evidence(parse_log("\n".join(aborted)), "training")
    assert evidence.finished_at is None and len(evidence.lines) == 1


def test_cleanup_of_other_keyspaces_only_is_no_evidence():
    for name in ("cleanup-5.0-with-work.log", "cleanup-3.11-with-work.log"):
        assert cleanup_evidence(log(name), "system_auth").finished_at is None
        other = (FIXTURES / name).read_text().replace("training", "shop")
        assert cleanup_evidence(parse_log(other), "training").finished_at is None


def test_which_versions_log_every_cleanup():
    assert cleanup_always_logged("5.0.9")
    assert not cleanup_always_logged("3.11.17")
    assert not cleanup_always_logged("4.1.11")  # not confirmed on a real 4.x node
    assert not cleanup_always_logged("")
