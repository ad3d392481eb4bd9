"""Commit-log evidence: a segment's header (what Cassandra writes first into every segment) tells a
real archived segment from a `touch`ed, `echo`ed or renamed file; a node's log names its replays."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from dselab.cassandra_log import parse_log
from dselab.check_helpers.commitlog import NO_POINT, header_problem, mx_value, replays

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOT_HEADER = "does not start with a commit-log segment header"


def header(version: int, segment_id: int, params: bytes = b'{"compressionParameters":null}') -> bytes:
    """A header laid out as CommitLogDescriptor.writeHeader does (big-endian, CRC32 over the ints)."""
    crc = 0
    for value in (version, segment_id & 0xFFFFFFFF, segment_id >> 32, len(params)):
        crc = zlib.crc32(struct.pack(">I", value), crc)
    crc = zlib.crc32(params, crc)
    return struct.pack(">iqH", version, segment_id, len(params)) + params + struct.pack(">I", crc) + b"\0" * 64


def test_a_header_written_as_cassandra_does_is_a_segment():
    assert header_problem("CommitLog-7-1764512345678.log", header(7, 1764512345678)) is None


@pytest.mark.parametrize("name, head, why", [
    ("CommitLog-7-1764512345678.log", b"", "holds 0 bytes"),  # touch
    ("CommitLog-7-1764512345678.log", header(7, 1764512345678)[:16] + b"X" + header(7, 1764512345678)[17:],
     NOT_HEADER),  # a real header, one byte changed
    ("CommitLog-7-1764512345678.log", b"not a segment, just text\n", NOT_HEADER),  # echo
    ("CommitLog-7-1764512345679.log", header(7, 1764512345678), "renamed, not archived"),  # mv / cp -n
    ("segment.log", header(7, 1764512345678), "is not named like a commit-log segment"),
])
def test_files_that_are_no_archived_segment_are_named(name: str, head: bytes, why: str):
    problem = header_problem(name, head)
    assert problem is not None and why in problem


def test_a_real_segment_header_captured_from_a_5_0_node_passes():
    """The first 256 bytes of a segment a 5.0.9 node archived in lab 05b, under its own name."""
    fixture = next(FIXTURES.glob("CommitLog-*.log.head"))
    assert header_problem(fixture.name.removesuffix(".head"), fixture.read_bytes()) is None


def test_replays_are_read_from_a_real_5_0_log():
    log = (FIXTURES / "replay-5.0.log").read_text()
    found = replays(parse_log(log))
    assert [r.mutations for r in found] == [0, 0, 34]  # two restarts, then the restore
    assert len(found[-1].segments) == 2 and found[-1].at > found[0].at
    assert all(name.startswith("CommitLog-7-") for r in found for name in r.segments)


def test_mx_values_as_nodetool_sjk_prints_them():
    text = (FIXTURES / "sjk-mx-restorepointintime-5.0.txt").read_text()
    value = mx_value(text)
    assert value is not None and value.isdigit() and int(value) != NO_POINT  # µs since the epoch
    assert mx_value("org.apache.cassandra.db:type=Commitlog\nnull\n") is None  # no archive_command
    assert mx_value("nodetool: Found unexpected parameters: [sjk, mx]\n") is None
