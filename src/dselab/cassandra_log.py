"""Reading a node's own log (system.log / debug.log): timestamps in the node's zone, cleanup lines.

Log lines carry no zone: Cassandra's and DSE's logback pattern is `%date{ISO8601}`, written in
the JVM's default zone, which is the node's (container's) zone. Callers pass the node's UTC
offset (`date +%z` run on the node). Which lines each version writes: docs/versions.md.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from dselab.errors import UnreadableOutput

# `%-5level [%thread] %date{ISO8601} %F:%L - %msg%n` (Cassandra 3.11 to 5.0, DSE 5.1 alike)
_LINE = re.compile(r"^(?P<level>[A-Z]+)\s+\[(?P<thread>[^\]]*)\]\s+"
                   r"(?P<stamp>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)[,.](?P<ms>\d{3})\s+"
                   r"(?:.*?\s)?[\w$.]+:\d+ - (?P<message>.*)$")


@dataclass(frozen=True)
class LogLine:
    level: str
    thread: str
    at: float  # epoch seconds
    message: str
    text: str


def parse_utc_offset(text: str) -> int:
    """Seconds east of UTC from `date +%z` output ("+0530", "-0400")."""
    match = re.fullmatch(r"\s*([+-])(\d\d):?(\d\d)\s*", text)
    if not match:
        raise UnreadableOutput(f"`date +%z` on the node printed {text.strip()[:40]!r}, not a UTC offset")
    sign = 1 if match.group(1) == "+" else -1
    return sign * (int(match.group(2)) * 3600 + int(match.group(3)) * 60)


def parse_log(text: str, utc_offset: int = 0) -> list[LogLine]:
    """Every log line with its instant; continuation lines (stack traces) are skipped."""
    lines = []
    for raw in text.splitlines():
        match = _LINE.match(raw)
        if match:
            local = calendar.timegm(time.strptime(match["stamp"].replace("T", " "), "%Y-%m-%d %H:%M:%S"))
            at = local - utc_offset + int(match["ms"]) / 1000
            lines.append(LogLine(match["level"], match["thread"], at, match["message"], raw))
    return lines


@dataclass
class CleanupEvidence:
    """What a node's log says about `nodetool cleanup` of one keyspace."""

    finished_at: float | None = None  # the last line that shows cleanup work on the keyspace
    lines: list[str] = field(default_factory=list)
    # Table folder ("orders-<id>") -> Data.db names cleanup took in (rewrote or dropped) / wrote.
    rewritten: dict[str, set[str]] = field(default_factory=dict)
    written: dict[str, set[str]] = field(default_factory=dict)


def _cleanup_patterns(keyspace: str) -> list[re.Pattern[str]]:
    ks = re.escape(keyspace)
    table_dir = rf"/{ks}/\w+-[0-9a-f]{{32}}/"
    return [
        # 3.11: "BigTableReader(path='...')", 5.0: "BigTableReader:big(path='...')"
        re.compile(rf"^Cleaning up [\w:]*\(path='[^']*{table_dir}"),  # an SSTable is rewritten
        re.compile(rf"^Cleaned up to [^ ]*{table_dir}"),  # ... and the rewrite finished
        re.compile(rf"^No sstables to CLEANUP for {ks}\.\w+"),  # no SSTable (5.0: or none left to clean)
        re.compile(rf"^SSTable .*{table_dir}.* does not intersect the owned ranges"),  # trunk source: dropped whole
        re.compile(rf"^Skipping cleanup for \d+/\d+ sstables for {ks}\.\w+"),  # 5.0: every SSTable kept
        re.compile(rf"^Finished Cleanup for {ks}\.\w+ successfully"),  # 5.0: per table
    ]


def _sstable_patterns(keyspace: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """An SSTable cleanup took in ("Cleaning up X(path='...')", "SSTable X(path='...') does not
    intersect ... dropping it") and one it wrote ("Cleaned up to /.../nb-2-big-Data.db.  ...")."""
    where = rf"/{re.escape(keyspace)}/(?P<folder>\w+-[0-9a-f]{{32}})/(?P<name>[^/']+-Data\.db)"
    return (re.compile(rf"^(?:Cleaning up |SSTable )[\w:]*\(path='[^']*{where}'\)"),
            re.compile(rf"^Cleaned up to [^ ]*{where}\.(?:\s|$)"))


def _note_sstables(evidence: CleanupEvidence, message: str, keyspace: str) -> None:
    took, wrote = _sstable_patterns(keyspace)
    for pattern, into in ((took, evidence.rewritten), (wrote, evidence.written)):
        match = pattern.match(message)
        if match:
            into.setdefault(match["folder"], set()).add(match["name"])


_STARTED = "Starting Cleanup on {}."  # 5.0 StorageService, one per `nodetool cleanup` and keyspace
_COMPLETED = re.compile(r"^Completed Cleanup with status SUCCESSFUL")


def cleanup_evidence(lines: Iterable[LogLine], keyspace: str) -> CleanupEvidence:
    """The last moment the log shows cleanup work on `keyspace`, and the lines it rests on.

    On 3.11 / DSE 5.1 only an SSTable that held foreign partitions leaves a line: a node with
    nothing to clean may log nothing at all (the skip is a TRACE line)."""
    evidence = CleanupEvidence()
    patterns = _cleanup_patterns(keyspace)
    started_on: set[str] = set()  # threads that started a cleanup of this keyspace (5.0)
    for line in lines:
        if line.message.startswith(_STARTED.format(keyspace)):
            started_on.add(line.thread)
            evidence.lines.append(line.text)  # started is not done: a cleanup can be aborted
            continue
        if line.thread in started_on and _COMPLETED.match(line.message):
            started_on.discard(line.thread)
        elif not any(p.match(line.message) for p in patterns):
            continue
        _note_sstables(evidence, line.message, keyspace)
        evidence.finished_at = max(evidence.finished_at or line.at, line.at)
        evidence.lines.append(line.text)
    return evidence


def cleanup_always_logged(version: str) -> bool:
    """True where every `nodetool cleanup` leaves a line even with nothing to clean (5.0's
    "Starting Cleanup on ..."); 3.11 / DSE 5.1 may log nothing, 4.x is not confirmed."""
    major = re.match(r"\d+", version or "")
    return major is not None and int(major.group()) >= 5
