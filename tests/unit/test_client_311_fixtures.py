"""What the DSE 5.1 generation's nodetool (3.11.19) really prints against 5.0.9 nodes, read by the
parsers the lab and its answers rely on. The fixtures in fixtures/client-3.11/ are written by
tests/integration/test_module05_verbatim.py from the real client (DSELAB_WRITE_FIXTURES=1), never by hand."""

from __future__ import annotations

from pathlib import Path

from dselab.nodetool_output import parse_listsnapshots, parse_size, parse_status, parse_statusbackup

FIXTURES = Path(__file__).parent / "fixtures" / "client-3.11"
TABLES = {"customers", "orders"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_status_is_read_strictly_with_every_node_up() -> None:
    rows = parse_status(fixture("status.txt"), strict=True)
    assert [r.state for r in rows] == ["UN"] * 3
    assert all(r.tokens == 16 and r.owns.endswith("%") for r in rows)


def test_listsnapshots_shows_the_5_0_servers_columns_and_parses() -> None:
    text = fixture("listsnapshots.txt")
    header = next(line for line in text.splitlines() if line.startswith("Snapshot name"))
    assert header.split()[-5:] == ["Creation", "time", "Expiration", "time", "Ephemeral"]
    rows = parse_listsnapshots(text)
    full = [r for r in rows if r.tag.startswith("full_backup_")]
    assert {r.table for r in full if r.keyspace == "training"} == TABLES
    assert {"system", "system_schema"} <= {r.keyspace for r in full}
    assert all(r.size_on_disk is not None and r.created for r in full)


def test_the_answer_a_student_reads_with_awk_is_the_parsed_size() -> None:
    """Step 2's solution reads `Size on disk` as fields 6 and 7 (awk): the same value the check compares."""
    text = fixture("listsnapshots.txt")
    rows = [r for r in parse_listsnapshots(text) if r.keyspace == "training" and r.table == "orders"]
    lines = [line.split() for line in text.splitlines() if line.split()[1:3] == ["training", "orders"]]
    assert rows and len(rows) == len(lines)  # 5.0 may list a table twice: each line is a row
    for row, fields in zip(rows, lines, strict=True):
        assert fields[0] == row.tag and parse_size(f"{fields[5]} {fields[6]}") == row.size_on_disk


def test_statusbackup_prints_the_two_words() -> None:
    assert parse_statusbackup(fixture("statusbackup-running.txt")) is True
    assert parse_statusbackup(fixture("statusbackup-not-running.txt")) is False


def test_tablestats_is_what_it_cannot_do_against_5_0() -> None:
    assert fixture("tablestats-error.txt").startswith("error: org.apache.cassandra.metrics:type=Table,")
