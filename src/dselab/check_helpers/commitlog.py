"""What Cassandra keeps about its commit log, for checks of archiving and point-in-time restore.

- A commit-log segment is `CommitLog-<version>-<id>.log` and starts with a header Cassandra
  writes (CommitLogDescriptor.writeHeader): version (int), id (long), the length of a parameters
  string (short), the string, then a CRC32 over version, id (low then high int), the length and
  the string, all big-endian. A `touch`ed or `echo`ed file has no such header; a renamed segment's
  id differs from its name.
- At start-up a node logs `Replaying <segment paths>` and then `Log replay complete, N replayed
  mutations in M ms`.
- Its Commitlog MBean says what the node read from commitlog_archiving.properties when it started
  (the file is read at start-up only): ArchiveCommand, RestoreDirectories, RestorePointInTime.

Pure logic here; the lab's checks read the files, logs and MBean.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from dselab.cassandra_log import LogLine

SEGMENT_NAME = re.compile(r"CommitLog-(?P<version>\d{1,3})-(?P<id>\d{1,19})\.log")
HEADER_READ = 64 * 1024  # the header is 18 bytes plus its parameters string (a few dozen bytes)
REPLAYING = "Replaying "
REPLAY_DONE = re.compile(r"Log replay complete, (?P<count>\d+) replayed mutations")
COMMITLOG_BEAN = "org.apache.cassandra.db:type=Commitlog"
NO_POINT = 2**63 - 1  # RestorePointInTime when none was set (Long.MAX_VALUE)


def _crc_int(crc: int, value: int) -> int:
    return zlib.crc32(struct.pack(">I", value & 0xFFFFFFFF), crc)


def header_problem(name: str, head: bytes) -> str | None:
    """Why `head` (a file's first bytes) is not the header of the commit-log segment `name`, or None."""
    match = SEGMENT_NAME.fullmatch(name)
    if not match:
        return f"{name} is not named like a commit-log segment (CommitLog-<version>-<id>.log)"
    if len(head) < 18:
        return f"{name} holds {len(head)} bytes: a commit-log segment starts with an 18-byte header at least"
    version, segment_id, length = struct.unpack(">iqH", head[:14])
    not_header = f"{name} does not start with a commit-log segment header: not a segment Cassandra wrote"
    if len(head) < 18 + length:
        return not_header
    params = head[14:14 + length]
    (stored,) = struct.unpack(">I", head[14 + length:18 + length])
    crc = _crc_int(_crc_int(_crc_int(0, version), segment_id & 0xFFFFFFFF), (segment_id >> 32) & 0xFFFFFFFF)
    crc = zlib.crc32(params, _crc_int(crc, length))
    if crc != stored:
        return not_header
    if (version, segment_id) != (int(match["version"]), int(match["id"])):
        return f"{name}: its header names segment CommitLog-{version}-{segment_id}.log: renamed, not archived"
    return None


@dataclass(frozen=True)
class Replay:
    """One start's commit-log replay: when it began, the segments it replayed, the mutations applied."""

    at: float  # epoch seconds
    segments: tuple[str, ...]
    mutations: int


def replays(lines: Iterable[LogLine]) -> list[Replay]:
    """Every replay a node logged (a `Replaying` line, then its `Log replay complete`)."""
    found, pending = [], None
    for line in lines:
        if line.message.startswith(REPLAYING):
            pending = (line.at, tuple(m.group(0) for m in SEGMENT_NAME.finditer(line.message)))
        elif pending and (done := REPLAY_DONE.match(line.message)):
            found.append(Replay(pending[0], pending[1], int(done["count"])))
            pending = None
    return found


def mx_value(output: str, bean: str = COMMITLOG_BEAN) -> str | None:
    """The value `nodetool sjk mx -mg -b BEAN -f ATTRIBUTE` printed: the bean's name on a line, then
    the value (`null` for none); None when the output is not that."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if len(lines) != 2 or lines[0] != bean or lines[1] == "null":
        return None
    return lines[1]
