"""Evidence as a person reads it: commands with node, exit and output (real line breaks), listings
as rows (path, size, links), reads and log tails as text, anything else as name/value rows; and the
gradebook's HTML draws those blocks with every student-written string escaped."""

from __future__ import annotations

from dselab.grading.evidence_view import blocks, file_row, raw

COMMAND = {"node": "dse-seed", "command": "nodetool listsnapshots", "exit": 0,
           "stdout": "Snapshot Details:\nlab_backup training t1\n", "stderr": "warn: slow\n"}


def test_a_command_keeps_its_node_exit_and_line_breaks() -> None:
    [b] = blocks([COMMAND])
    assert b == {"kind": "command", "node": "dse-seed", "command": "nodetool listsnapshots", "exit": 0,
                 "output": "Snapshot Details:\nlab_backup training t1\nwarn: slow"}


def test_a_listing_is_rows_with_size_and_links_old_records_without_links() -> None:
    [b] = blocks([{"node": "dse-node-1", "listing": "training",
                   "files": ["t1/snapshots/lab_backup/nb-1-big-Data.db (5120 B, 2 links)", "t1/x.db (10 B)", "odd"]}])
    assert b["kind"] == "listing" and b["folder"] == "training"
    assert b["files"] == [{"path": "t1/snapshots/lab_backup/nb-1-big-Data.db", "size": 5120, "links": 2},
                          {"path": "t1/x.db", "size": 10, "links": None},
                          {"path": "odd", "size": None, "links": None}]
    assert file_row({"path": "a", "size": 1, "links": 3}) == {"path": "a", "size": 1, "links": 3}


def test_reads_tails_and_facts() -> None:
    read, tail, facts, odd = blocks([{"node": "n", "read": "m.json", "content": "{}\n"},
                                     {"node": "n", "log_tail": "ERROR x\nat y"},
                                     {"node": "n", "tag": "lab_backup", "nodes": ["a", "b"]}, 42])
    assert (read["kind"], read["title"], read["text"]) == ("text", "read m.json", "{}\n")
    assert (tail["title"], tail["text"]) == ("log tail", "ERROR x\nat y")
    assert facts == {"kind": "facts", "node": "n", "rows": [["tag", "lab_backup"], ["nodes", '["a", "b"]']]}
    assert odd["rows"] == [["value", "42"]]
    assert blocks({"not": "a list"})[0]["kind"] == "facts"
    assert '"exit": 0' in raw([COMMAND])
