"""Parsers for nodetool output, for Cassandra 3.11 / DSE 5.1 and 4.x / 5.0 forms.

Tested against output captured from a real 5.0 cluster (tests/unit/fixtures/) and the documented
3.11 forms. Sizes are parsed loosely ("44.02 KiB", "1.2 MB", "512 bytes").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "bytes": 1, "b": 1, "byte": 1,
    "kib": 1024, "kb": 1024, "mib": 1024**2, "mb": 1024**2,
    "gib": 1024**3, "gb": 1024**3, "tib": 1024**4, "tb": 1024**4,
}


def parse_size(text: str) -> int | None:
    match = re.fullmatch(r"\s*([\d.,]+)\s*([A-Za-z]+)?\s*", text)
    if not match:
        return None
    number = float(match.group(1).replace(",", ""))
    unit = (match.group(2) or "bytes").lower()
    factor = _UNITS.get(unit)
    return int(number * factor) if factor else None


@dataclass(frozen=True)
class StatusRow:
    state: str
    address: str
    load: str
    owns: str
    host_id: str


def parse_status(text: str) -> list[StatusRow]:
    rows = []
    for line in text.splitlines():
        match = re.match(r"^([UD][NLJM])\s+(\S+)\s+(.+?)\s{2,}(\S+)\s+(\S+%|\?)\s+([0-9a-f-]{36})", line)
        if match:
            state, addr, load, _tokens, owns, host = match.groups()
            rows.append(StatusRow(state, addr.split(":")[0], load.strip(), owns, host))
    return rows


@dataclass(frozen=True)
class SnapshotRow:
    tag: str
    keyspace: str
    table: str
    true_size: int | None
    size_on_disk: int | None
    created: str | None = None  # 4.1+ only


_SIZE = r"([\d.,]+\s*(?:bytes|[KMGT]i?B|B))"
_SNAPSHOT_ROW = re.compile(rf"^(\S+)\s+(\S+)\s+(\S+)\s+{_SIZE}\s+{_SIZE}(?:\s+(\S+))?")


def parse_listsnapshots(text: str) -> list[SnapshotRow]:
    """Rows of `nodetool listsnapshots` (3.11: 5 columns; 4.1+: creation/expiration added)."""
    rows = []
    for line in text.splitlines():
        if line.startswith(("Snapshot name", "Snapshot Details", "Total TrueDiskSpaceUsed", "There are no")):
            continue
        match = _SNAPSHOT_ROW.match(line.strip())
        if match:
            tag, ks, table, true_size, on_disk, created = match.groups()
            rows.append(SnapshotRow(tag, ks, table, parse_size(true_size), parse_size(on_disk), created))
    return rows


def parse_statusbackup(text: str) -> bool | None:
    """`running` -> True, `not running` -> False, anything else -> None."""
    value = text.strip().lower()
    return {"running": True, "not running": False}.get(value)


def parse_tablestats_partitions(text: str) -> dict[str, int]:
    """Table name -> "Number of partitions (estimate)" from `nodetool tablestats KS`."""
    out: dict[str, int] = {}
    table = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Table:"):
            table = line.split(":", 1)[1].strip()
        elif table and line.startswith(("Number of partitions (estimate):", "Number of keys (estimate):")):
            out[table] = int(line.split(":", 1)[1].strip().replace(",", ""))
    return out


def parse_owns(text: str) -> dict[str, float]:
    """Address -> effective ownership (fraction) from `nodetool status KS`."""
    return {row.address: float(row.owns.rstrip("%")) / 100 for row in parse_status(text) if row.owns != "?"}
