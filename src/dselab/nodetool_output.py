"""Parsers for nodetool output, in every form Cassandra 3.11 / DSE 5.1 and 4.x / 5.0 print.

Each form and where it comes from is listed in docs/versions.md. Where nodetool prints JSON
(`tablestats -F json`, 3.11 and later) the JSON is read; text is parsed only where no JSON form
exists (`status`, `listsnapshots`, `statusbackup`). Sizes are parsed loosely ("44.02 KiB", "1.2 MB").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dselab.errors import UnreadableOutput

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


# -- status ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusRow:
    state: str
    address: str
    load: str
    owns: str
    host_id: str
    tokens: int | None = None  # vnode layout: how many tokens the node has
    token: str | None = None  # single-token layout: the node's one token
    rack: str = ""


_STATE = r"([UD?][NLJM])"
_LOAD = r"(\?|[\d.,]+\s*[A-Za-z]+)"
_OWNS = r"(\S+%|\?)"
_HOST_ID = r"([0-9a-f-]{36}|null)"
# vnodes: -- Address Load Tokens Owns HostID Rack (3.11 printf and 4.x+ TableBuilder alike)
_VNODE_ROW = re.compile(rf"^{_STATE}\s+(\S+)\s+{_LOAD}\s+(\d+)\s+{_OWNS}\s+{_HOST_ID}\s*(.*?)\s*$")
# one token per node: -- Address Load Owns HostID Token Rack
_SINGLE_TOKEN_ROW = re.compile(rf"^{_STATE}\s+(\S+)\s+{_LOAD}\s+{_OWNS}\s+{_HOST_ID}\s+(\S+)\s*(.*?)\s*$")


def parse_status(text: str, strict: bool = False) -> list[StatusRow]:
    """Rows of `nodetool status`, vnode or single-token layout. `strict` refuses a node row in
    any other layout (and output with no node row at all) instead of skipping it."""
    rows = []
    for line in text.splitlines():
        if match := _VNODE_ROW.match(line):
            state, addr, load, tokens, owns, host, rack = match.groups()
            rows.append(StatusRow(state, addr.split(":")[0], load, owns, host, tokens=int(tokens), rack=rack))
        elif match := _SINGLE_TOKEN_ROW.match(line):
            state, addr, load, owns, host, token, rack = match.groups()
            rows.append(StatusRow(state, addr.split(":")[0], load, owns, host, token=token, rack=rack))
        elif strict and re.match(rf"^{_STATE}\s", line):
            raise UnreadableOutput(f"`nodetool status` printed a node row in a layout dselab does not read: "
                                   f"{line.strip()!r}", fix="see docs/versions.md for the layouts read")
    if strict and not rows:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "(nothing)")
        raise UnreadableOutput(f"`nodetool status` listed no node: {first[:200]!r}")
    return rows


def parse_owns(text: str) -> dict[str, float]:
    """Address -> effective ownership (fraction) from `nodetool status KS`."""
    return {row.address: float(row.owns.rstrip("%")) / 100
            for row in parse_status(text, strict=True) if row.owns != "?"}


# -- listsnapshots ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SnapshotRow:
    tag: str
    keyspace: str
    table: str
    true_size: int | None
    size_on_disk: int | None
    created: str | None = None  # 4.1+ only
    # Fixed-width form only: the tag ran into the keyspace name and no known keyspace name
    # confirmed where one ends; the caller should confirm tag and keyspace from disk.
    ambiguous: bool = False


_SIZE = r"\d[\d.,]*\s(?:bytes|[KMGT]i?B)"
# Cassandra 3.x before CASSANDRA-14162: printf("%-20s%-29s%-29s%-19s%-19s%n"), header included.
_FIXED_WIDTH_HEADER = re.compile(r"^Snapshot name {7}Keyspace name {16}Column family name {11}True size {10}Size on disk")
_TAG_WIDTH, _KEYSPACE_WIDTH, _SIZE_WIDTH = 20, 29, 19
# TableBuilder (late 3.11, 4.x, 5.0): columns padded to the widest value plus one space.
_TABLE_BUILDER_ROW = re.compile(rf"^(\S+)\s+(\S+)\s+(\S+)\s+({_SIZE})\s+({_SIZE})(?:\s+(\S+))?")
_NOT_ROWS = ("Snapshot name", "Snapshot Details", "Total TrueDiskSpaceUsed", "There are no")


def parse_listsnapshots(text: str, keyspaces: Iterable[str] = ()) -> list[SnapshotRow]:
    """Rows of `nodetool listsnapshots`, in the fixed-width 3.x form or the TableBuilder form
    (5 columns; 4.1+ adds creation and expiration). `keyspaces` (the cluster's keyspace names)
    confirm where a tag of 20 characters or more ends in the fixed-width form."""
    lines = text.splitlines()
    fixed_width = any(_FIXED_WIDTH_HEADER.match(line) for line in lines)
    known = set(keyspaces)
    rows = []
    for line in lines:
        if not line.strip() or line.startswith(_NOT_ROWS):
            continue
        row = _fixed_width_row(line, known) if fixed_width else _table_builder_row(line)
        if row:
            rows.append(row)
    return rows


def _table_builder_row(line: str) -> SnapshotRow | None:
    match = _TABLE_BUILDER_ROW.match(line.strip())
    if not match:
        return None
    tag, ks, table, true_size, on_disk, created = match.groups()
    return SnapshotRow(tag, ks, table, parse_size(true_size), parse_size(on_disk), created)


def _fixed_width_row(line: str, known: set[str]) -> SnapshotRow | None:
    """Undo printf's columns from both ends: sizes are shorter than their 19-character field,
    so the true size starts 19 characters before the size on disk; the keyspace field is 29
    wide, so when the tag ran into it the keyspace starts 29 characters before the table."""
    line = line.rstrip()
    on_disk = re.search(rf"{_SIZE}$", line)
    if not on_disk or on_disk.start() < _SIZE_WIDTH:
        return None
    true_start = on_disk.start() - _SIZE_WIDTH
    true_size = line[true_start:on_disk.start()].strip()
    if not re.fullmatch(_SIZE, true_size):
        return None
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", line[:true_start])]
    ambiguous = False
    if len(words) == 3:  # nothing ran together
        (_, tag), (_, ks), (_, table) = words
    elif len(words) == 2:  # the tag (20+ characters) ran into the keyspace name
        (_, joined), (table_start, table) = words
        tag, ks, ambiguous = _split_tag_keyspace(joined, table_start, known)
    else:
        return None
    return SnapshotRow(tag, ks, table, parse_size(true_size), parse_size(on_disk.group()), ambiguous=ambiguous)


def _split_tag_keyspace(joined: str, table_start: int, known: set[str]) -> tuple[str, str, bool]:
    """(tag, keyspace, ambiguous) for a tag that ran into its keyspace name."""
    cut = table_start - _KEYSPACE_WIDTH  # exact when the keyspace name is under 29 characters
    if _TAG_WIDTH <= cut < len(joined) and joined[cut:] in known:
        return joined[:cut], joined[cut:], False
    by_name = [ks for ks in known if joined.endswith(ks) and len(joined) - len(ks) >= _TAG_WIDTH]
    if len(by_name) == 1:
        return joined[:-len(by_name[0])], by_name[0], False
    cut = min(max(cut, _TAG_WIDTH), len(joined) - 1)
    return joined[:cut], joined[cut:], True


# -- statusbackup, tablestats -----------------------------------------------------------------

def parse_statusbackup(text: str) -> bool | None:
    """`running` -> True, `not running` -> False, anything else -> None."""
    value = text.strip().lower()
    return {"running": True, "not running": False}.get(value)


def parse_tablestats_json(text: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Keyspace -> table -> metrics from `nodetool tablestats -F json [KS]` (3.11 prints one
    line through json-simple, 4.x+ pretty-prints through Jackson; NaN may appear as NaN or null)."""
    start = text.find("{")
    try:
        data, _end = json.JSONDecoder().raw_decode(text[start:]) if start >= 0 else (None, 0)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "(nothing)")
        raise UnreadableOutput(f"`nodetool tablestats -F json` printed no JSON object: {first[:200]!r}")
    return {ks: {table: metrics for table, metrics in (value.get("tables") or {}).items() if isinstance(metrics, dict)}
            for ks, value in data.items() if isinstance(value, dict)}


# 3.11's first JSON holder named it number_of_keys_estimate; later ones number_of_partitions_estimate.
_PARTITION_KEYS = ("number_of_partitions_estimate", "number_of_keys_estimate")


def parse_tablestats_partitions(text: str, keyspace: str) -> dict[str, int]:
    """Table -> estimated partitions on this node, from `nodetool tablestats -F json KS`."""
    tables = parse_tablestats_json(text).get(keyspace)
    if tables is None:
        raise UnreadableOutput(f"`nodetool tablestats -F json {keyspace}` has no keyspace {keyspace}")
    out = {}
    for table, metrics in tables.items():
        value = next((metrics[k] for k in _PARTITION_KEYS if k in metrics), None)
        try:
            out[table] = int(str(value).replace(",", ""))
        except ValueError:
            raise UnreadableOutput(f"tablestats: no partition estimate for {keyspace}.{table} ({value!r})") from None
    return out
