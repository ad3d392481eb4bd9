"""The nodetool parsers read real 5.0 output (captured from the lab cluster) and the 3.11 forms."""

from pathlib import Path

from dselab.nodetool_output import (
    parse_listsnapshots,
    parse_owns,
    parse_size,
    parse_statusbackup,
    parse_tablestats_partitions,
)

FIXTURES = Path(__file__).parent / "fixtures"

# The documented DSE 5.1 / Cassandra 3.11 form: five columns, no creation time.
LISTSNAPSHOTS_311 = """Snapshot Details:
Snapshot name Keyspace name Column family name True size Size on disk
lab_backup    training      customers          0 bytes   117.85 KB
lab_backup    training      orders             0 bytes   137.76 KB

Total TrueDiskSpaceUsed: 0 bytes
"""


def test_sizes_parse_loosely():
    assert parse_size("110 bytes") == 110
    assert parse_size("44.02 KiB") == int(44.02 * 1024)
    assert parse_size("1.5 MB") == int(1.5 * 1024**2)
    assert parse_size("137.76KiB") == int(137.76 * 1024)
    assert parse_size("lots") is None


def test_listsnapshots_real_50_output():
    rows = parse_listsnapshots((FIXTURES / "listsnapshots-5.0.txt").read_text())
    lab = [r for r in rows if r.tag == "lab_backup"]
    assert [(r.keyspace, r.table) for r in lab] == [("training", "customers"), ("training", "orders")]
    assert lab[1].size_on_disk == int(137.76 * 1024)
    assert lab[0].created == "2026-11-24T01:30:29.317Z"
    assert any(r.tag == "full_all" and r.keyspace == "system_schema" for r in rows)


def test_listsnapshots_311_form_and_empty():
    rows = parse_listsnapshots(LISTSNAPSHOTS_311)
    assert [(r.tag, r.table, r.true_size, r.created) for r in rows] == [
        ("lab_backup", "customers", 0, None), ("lab_backup", "orders", 0, None)]
    assert parse_listsnapshots("Snapshot Details: \nThere are no snapshots\n") == []


def test_statusbackup():
    assert parse_statusbackup("running\n") is True
    assert parse_statusbackup("not running\n") is False
    assert parse_statusbackup("error: connection refused") is None


def test_status_ownership_and_tablestats_from_real_output():
    owns = parse_owns((FIXTURES / "status-5.0.txt").read_text())
    assert owns == {"127.0.55.2": 0.644, "127.0.55.3": 0.682, "127.0.55.1": 0.674}
    parts = parse_tablestats_partitions((FIXTURES / "tablestats-5.0.txt").read_text())
    assert parts == {"customers": 4000, "orders": 4000}
