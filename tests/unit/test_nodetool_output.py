"""The nodetool parsers read each form 3.11 / DSE 5.1 and 5.0 print.

Fixtures named *-5.0* are captured from the lab's real 5.0.9 cluster; *-3.11* ones are composed
from the 3.11 source's format definitions (see docs/versions.md), with the lab's own names.
"""

from pathlib import Path

import pytest

from dselab.errors import UnreadableOutput
from dselab.nodetool_output import (
    parse_listsnapshots,
    parse_owns,
    parse_size,
    parse_status,
    parse_statusbackup,
    parse_tablestats_json,
    parse_tablestats_partitions,
)

FIXTURES = Path(__file__).parent / "fixtures"
CLUSTER_KEYSPACES = {"training", "system", "system_schema", "system_auth", "system_distributed", "system_traces"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_sizes_parse_loosely():
    assert parse_size("110 bytes") == 110
    assert parse_size("44.02 KiB") == int(44.02 * 1024)
    assert parse_size("1.5 MB") == int(1.5 * 1024**2)
    assert parse_size("137.76KiB") == int(137.76 * 1024)
    assert parse_size("lots") is None


# -- listsnapshots ---------------------------------------------------------------------------

def test_listsnapshots_real_50_output():
    rows = parse_listsnapshots(fixture("listsnapshots-5.0.txt"))
    lab = [r for r in rows if r.tag == "lab_backup"]
    assert [(r.keyspace, r.table) for r in lab] == [("training", "customers"), ("training", "orders")]
    assert lab[1].size_on_disk == int(137.76 * 1024)
    assert lab[0].created == "2026-11-24T01:30:29.317Z"
    assert any(r.tag == "full_all" and r.keyspace == "system_schema" for r in rows)


def test_listsnapshots_real_50_output_with_20_character_and_longer_tags():
    rows = parse_listsnapshots(fixture("listsnapshots-5.0-full-backup.txt"))
    full = {(r.keyspace, r.table) for r in rows if r.tag == "full_backup_20261125"}
    assert {("training", "customers"), ("training", "orders"), ("system_schema", "tables")} <= full
    longer = {(r.keyspace, r.table) for r in rows if r.tag == "full_backup_20261125_after_cleanup"}
    assert longer == {("training", "customers"), ("training", "orders")}
    assert not any(r.ambiguous for r in rows)


# The rows of the 3.11 fixtures: the lab's own tags (lab_backup, the 20-character
# full_backup_YYYYMMDD, a longer one) and tables, plus a 30-character system table.
ROWS_311 = [
    ("lab_backup", "training", "customers", "0 bytes", "117.85 KiB"),
    ("lab_backup", "training", "orders", "0 bytes", "137.76 KiB"),
    ("full_backup_20261125", "training", "customers", "0 bytes", "117.85 KiB"),
    ("full_backup_20261125", "training", "orders", "0 bytes", "137.76 KiB"),
    ("full_backup_20261125", "system_schema", "keyspaces", "0 bytes", "16.17 KiB"),
    ("full_backup_20261125", "system_schema", "tables", "0 bytes", "17.63 KiB"),
    ("full_backup_20261125", "system", "local", "0 bytes", "11.83 KiB"),
    ("full_backup_20261125", "system_auth", "resource_role_permissons_index", "0 bytes", "4.9 KiB"),
    ("full_backup_20261125", "system_distributed", "repair_history", "0 bytes", "4.96 KiB"),
    ("full_backup_20261125_after_cleanup", "training", "customers", "71.99 KiB", "71.99 KiB"),
    ("full_backup_20261125_after_cleanup", "training", "orders", "91.76 KiB", "91.76 KiB"),
]


def test_311_fixed_width_fixture_is_the_printf_of_its_rows_and_parses_back():
    """3.11's ListSnapshots: printf("%-20s%-29s%-29s%-19s%-19s%n") for the header and every row."""
    fmt = "%-20s%-29s%-29s%-19s%-19s\n"
    header = fmt % ("Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk")
    printed = "".join(fmt % row for row in ROWS_311)
    text = fixture("listsnapshots-3.11-fixed-width.txt")
    assert text == f"Snapshot Details: \n{header}{printed}\nTotal TrueDiskSpaceUsed: 163.75 KiB\n\n"
    rows = parse_listsnapshots(text, CLUSTER_KEYSPACES)
    assert [(r.tag, r.keyspace, r.table, r.true_size, r.size_on_disk) for r in rows] == [
        (tag, ks, table, parse_size(true), parse_size(disk)) for tag, ks, table, true, disk in ROWS_311]


def test_311_fixed_width_20_character_tag_runs_into_the_keyspace_and_is_split():
    rows = parse_listsnapshots(fixture("listsnapshots-3.11-fixed-width.txt"), CLUSTER_KEYSPACES)
    assert [(r.tag, r.keyspace, r.table) for r in rows if r.tag == "lab_backup"] == [
        ("lab_backup", "training", "customers"), ("lab_backup", "training", "orders")]
    full = {(r.keyspace, r.table) for r in rows if r.tag == "full_backup_20261125"}
    assert full == {("training", "customers"), ("training", "orders"), ("system_schema", "keyspaces"),
                    ("system_schema", "tables"), ("system", "local"),
                    ("system_auth", "resource_role_permissons_index"), ("system_distributed", "repair_history")}
    longer = [(r.keyspace, r.table, r.true_size) for r in rows if r.tag == "full_backup_20261125_after_cleanup"]
    assert longer == [("training", "customers", int(71.99 * 1024)), ("training", "orders", int(91.76 * 1024))]
    assert not any(r.ambiguous for r in rows)


def test_311_fixed_width_30_character_table_runs_into_the_true_size():
    rows = parse_listsnapshots(fixture("listsnapshots-3.11-fixed-width.txt"), CLUSTER_KEYSPACES)
    row = next(r for r in rows if r.keyspace == "system_auth")
    assert (row.table, row.true_size, row.size_on_disk) == ("resource_role_permissons_index", 0, int(4.9 * 1024))


def test_311_fixed_width_without_known_keyspaces_splits_by_column_width_and_says_so():
    rows = parse_listsnapshots(fixture("listsnapshots-3.11-fixed-width.txt"))
    glued = [r for r in rows if r.tag.startswith("full_backup_")]
    assert all(r.ambiguous for r in glued)
    assert {r.tag for r in glued} == {"full_backup_20261125", "full_backup_20261125_after_cleanup"}
    assert not any(r.ambiguous for r in rows if r.tag == "lab_backup")


def test_311_fixed_width_with_uneven_padding_is_split_by_a_known_keyspace_name():
    text = fixture("listsnapshots-3.11-fixed-width.txt").replace(
        "full_backup_20261125training                     orders", "full_backup_20261125training                   orders")
    rows = parse_listsnapshots(text, CLUSTER_KEYSPACES)
    row = next(r for r in rows if r.tag == "full_backup_20261125" and r.table == "orders")
    assert (row.keyspace, row.ambiguous) == ("training", False)


def test_311_table_builder_form_has_five_columns_and_no_creation_time():
    rows = parse_listsnapshots(fixture("listsnapshots-3.11-table-builder.txt"))
    assert [(r.tag, r.keyspace, r.table) for r in rows] == [row[:3] for row in ROWS_311]
    assert not any(r.ambiguous or r.created for r in rows)


def test_listsnapshots_empty_in_both_versions():
    assert parse_listsnapshots("Snapshot Details: \nThere are no snapshots") == []  # 3.11: printf, no newline
    assert parse_listsnapshots("Snapshot Details: \nThere are no snapshots\n") == []


# -- status ----------------------------------------------------------------------------------

OWNS = {"127.0.65.1": 0.674, "127.0.65.2": 0.644, "127.0.65.3": 0.682}


def test_status_real_50_vnodes():
    assert parse_owns(fixture("status-5.0.txt")) == {"127.0.55.2": 0.644, "127.0.55.3": 0.682, "127.0.55.1": 0.674}
    assert {r.tokens for r in parse_status(fixture("status-5.0.txt"))} == {16}


@pytest.mark.parametrize("name", ["status-3.11-vnodes.txt", "status-3.11-single-token.txt",
                                  "status-5.0-single-token.txt"])
def test_status_311_and_single_token_layouts(name):
    """3.11's printf columns (a 10-character load overruns its 9) and the single-token layout
    (Owns before Host ID, then Token) in both 3.11 and 5.0."""
    assert parse_owns(fixture(name)) == OWNS
    rows = parse_status(fixture(name))
    assert [r.state for r in rows] == ["UN"] * 3 and rows[0].load == "430.83 KiB" and rows[0].rack == "rack1"
    if "single" in name:
        assert [r.token for r in rows] == ["-9223372036854775808", "-3074457345618258603", "3074457345618258602"]
        assert rows[0].host_id == "1c9fdd54-3d3a-4757-b425-3af523e0f93a"
    else:
        assert {r.tokens for r in rows} == {16}


def test_status_row_in_an_unknown_layout_is_refused_not_skipped():
    text = fixture("status-5.0.txt").replace("UN  127.0.55.3  341.8 KiB   16      68.2%",
                                             "UN  127.0.55.3  341.8 KiB   16      68.2%  extra")
    with pytest.raises(UnreadableOutput, match="layout dselab does not read"):
        parse_owns(text)
    with pytest.raises(UnreadableOutput, match="listed no node"):
        parse_owns("error: Connection refused")
    assert len(parse_status(text)) == 2  # the runtimes' lenient reading keeps the rows it knows


def test_statusbackup():
    assert parse_statusbackup("running\n") is True
    assert parse_statusbackup("not running\n") is False
    assert parse_statusbackup("error: connection refused") is None


# -- tablestats -F json ----------------------------------------------------------------------

def test_tablestats_json_real_50_output():
    assert parse_tablestats_partitions(fixture("tablestats-5.0.json"), "training") == {"customers": 2741, "orders": 2741}
    stats = parse_tablestats_json(fixture("tablestats-5.0.json"))
    assert stats["training"]["orders"]["local_read_latency_ms"] == "NaN"


def test_tablestats_json_311_one_line_form_and_its_older_key():
    text = fixture("tablestats-3.11.json")
    assert parse_tablestats_partitions(text, "training") == {"customers": 4000, "orders": 4000}
    older = text.replace("number_of_partitions_estimate", "number_of_keys_estimate")
    assert parse_tablestats_partitions(older, "training") == {"customers": 4000, "orders": 4000}


def test_tablestats_without_json_is_a_clear_error():
    with pytest.raises(UnreadableOutput, match="printed no JSON object"):
        parse_tablestats_partitions("Total number of tables: 2\n----------------\n", "training")
    with pytest.raises(UnreadableOutput, match="has no keyspace training"):
        parse_tablestats_partitions('{"total_number_of_tables": 0}', "training")
