"""Whole SSTables as bytes, for fake runtimes: every component of the TOC, a Data.db and its CRC32."""

from __future__ import annotations

import zlib

COMPONENTS = ("CompressionInfo.db", "Data.db", "Digest.crc32", "Filter.db", "Index.db", "Statistics.db",
              "Summary.db", "TOC.txt")


def sstable_files(sstable: str, data: bytes = b"partitions of the training keyspace") -> dict[str, bytes]:
    """File name -> content of one whole SSTable `sstable` ("nb-2-big") as Cassandra 5.0 writes it."""
    files = {c: f"{c} of {sstable}".encode() for c in COMPONENTS}
    files["Data.db"] = data
    files["Digest.crc32"] = str(zlib.crc32(data)).encode()
    files["TOC.txt"] = ("\n".join(COMPONENTS) + "\n").encode()
    return {f"{sstable}-{component}": content for component, content in files.items()}
