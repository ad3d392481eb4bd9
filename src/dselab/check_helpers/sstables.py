"""SSTables as Cassandra writes them: file names, the component set TOC.txt names, Data.db digests.

Pure logic, no cluster: `disk.py` reads the files and hands names, sizes and bytes in here.

What a whole SSTable proves: every component its TOC.txt names is there and none is empty, and
its Data.db hashes to the CRC32 Cassandra wrote into Digest.crc32 when it wrote the SSTable. An
empty `touch`ed `nb-9-big-Data.db`, a file grown by `echo >>`, or a truncated copy is not one.
What it cannot prove: who wrote it. A byte-for-byte copy of a real SSTable (of this node or of
another) passes; hard links, generations and the rows' write times tell more (see the checks).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# <version>-<generation>-<format>-<Component>: nb-1-big-Data.db (4.0+), mc-6-big-TOC.txt (3.11),
# nb-3gxk_0s2x_1d9ww2g4d5ttvr1a8v-big-Data.db (5.0 with UUID generations), da-1-bti-Rows.db.
SSTABLE_FILE = re.compile(
    r"^(?P<sstable>[a-z]{2}-(?P<generation>[0-9a-z_]+)-(?:big|bti))-(?P<component>[A-Za-z0-9_.]+)$")
DATA, TOC, DIGEST = "Data.db", "TOC.txt", "Digest.crc32"


@dataclass(frozen=True)
class SSTableFile:
    sstable: str  # "nb-1-big": every component of one SSTable shares it
    generation: str  # "1", or a UUID-based id in 5.0
    component: str  # "Data.db", "TOC.txt", ...


def parse_name(name: str) -> SSTableFile | None:
    """The SSTable a file name belongs to, or None for other files (manifest.json, schema.cql)."""
    match = SSTABLE_FILE.match(name)
    return SSTableFile(match["sstable"], match["generation"], match["component"]) if match else None


def group_components(sizes: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """File name -> size, grouped as SSTable -> component -> size (other files left out)."""
    groups: dict[str, dict[str, int]] = {}
    for name, size in sizes.items():
        parsed = parse_name(name)
        if parsed:
            groups.setdefault(parsed.sstable, {})[parsed.component] = size
    return groups


def toc_components(text: str) -> set[str]:
    """The component names a TOC.txt lists, one a line."""
    return {line.strip() for line in text.splitlines() if line.strip()}


def component_problems(present: Mapping[str, int], toc: set[str] | None) -> list[str]:
    """What is wrong with one SSTable's files (`present`: component -> size); [] when whole.
    `toc` is what its TOC.txt lists (empty for an empty TOC.txt), None when there is no TOC.txt."""
    problems = []
    if toc is None:
        problems.append(f"has no {TOC} (the list of its components Cassandra writes with every SSTable)")
    elif not toc:
        problems.append(f"has an empty {TOC}")
    else:
        if DATA not in toc:
            problems.append(f"has a {TOC} that names no {DATA}")
        missing = sorted(toc - present.keys())
        if missing:
            problems.append(f"lacks {', '.join(missing)} (named in its {TOC})")
        extra = sorted(present.keys() - toc)
        if extra:
            problems.append(f"has {', '.join(extra)}, which its {TOC} does not name")
    empty = sorted(c for c, size in present.items() if size == 0 and c != TOC)
    if empty:
        problems.append(f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty")
    return problems


def parse_digest(text: str) -> int | None:
    """The CRC32 a Digest.crc32 holds (decimal text, as Cassandra writes it), None when it is not one."""
    text = text.strip()
    return int(text) if text.isdigit() and int(text) < 2**32 else None


def digest_problem(data: bytes, digest_text: str) -> str | None:
    """Why Data.db's bytes do not match its Digest.crc32, or None when they do."""
    expected = parse_digest(digest_text)
    if expected is None:
        return f"has a {DIGEST} that holds no CRC32 ({digest_text.strip()[:20]!r})"
    actual = zlib.crc32(data) & 0xFFFFFFFF
    if actual != expected:
        return f"has a {DATA} whose CRC32 ({actual}) is not the one in its {DIGEST} ({expected})"
    return None


def generation_key(generation: str) -> tuple[int, int | str]:
    """An order on generations: sequential ones as numbers; 5.0's UUID-based ids are fixed-width
    base-36 fields that begin with the time, so they sort as strings. Kinds never mix."""
    return (0, int(generation)) if generation.isdigit() else (1, generation)


def newest_generation(names: Iterable[str]) -> tuple[int, int | str] | None:
    keys = [generation_key(p.generation) for n in names if (p := parse_name(n))]
    return max(keys) if keys else None


def predating_files(snapshot: Mapping[str, int], live_inodes: set[int], rewritten: set[str],
                    written: set[str]) -> list[str]:
    """The Data.db files of a snapshot (name -> inode) that show it was taken before cleanup.

    A snapshot links the SSTables the node holds when it is taken. After cleanup those are the
    SSTables cleanup wrote (and the ones it left alone), never the ones it rewrote. So a file of
    the snapshot is fine when it is still a hard link of a live SSTable (same inode: the node
    holds it now, after cleanup), or when its generation is not older than the newest SSTable
    cleanup wrote (`written`: the node wrote it then or later). A file cleanup rewrote
    (`rewritten`) is proof the snapshot came first. Names come from the node's own log lines
    ("Cleaning up ...", "Cleaned up to ..."): appending lines can only add rewritten files or
    raise the newest generation, so it can make a snapshot fail, never pass."""
    newest = newest_generation(written)
    stale = []
    for name, inode in sorted(snapshot.items()):
        parsed = parse_name(name)
        if name in rewritten or parsed is None:
            stale.append(name)
        elif inode and inode in live_inodes:
            continue
        elif newest is None or generation_key(parsed.generation)[0] != newest[0] \
                or generation_key(parsed.generation) < newest:
            stale.append(name)
    return stale
