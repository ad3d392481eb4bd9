"""The DSE 5.1 generation's nodetool (Apache Cassandra 3.11's), run against any local cluster.

DSE 5.1 is built on Cassandra 3.11, so its `nodetool` is 3.11's: the command forms the module
teaches (`clearsnapshot training` with no tag removes every snapshot of the keyspace) are that
client's. `cassandra-all` 3.11.19 and its dependencies come from Maven Central through the same
path as the nodes' jars (distribution.fetched: strict checksums, a pinned SHA-256, a manifest
re-checked on reuse), and a tiny launcher (java/LegacyNodetool.java, compiled on first use into
the cache like the warm nodetool server) makes it start on Java 11/17.

The cluster's warm nodetool server for this client (runtime/nodetool_server.py: a second server
beside the native one, these jars, JVM flags and launcher, `clientInitialization()` once at start)
answers first; a JVM per call is the fallback. What works against a 5.0 node and what does not:
docs/versions.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dselab.errors import EnvironmentProblem
from dselab.progress import Progress
from dselab.runtime import distribution, java_helpers
from dselab.settings import Settings

VERSION = "3.11.19"
CLIENT = "3.11"  # the name DSELAB_NODETOOL and lab.yaml give this client ("native": the nodes' own)
SOURCE = java_helpers.JAVA_DIR / "LegacyNodetool.java"
MAIN_CLASS = "LegacyNodetool"
# What 3.11's FileUtils logs on Java 11+ while it loads: harmless for a client, and never nodetool's.
_UNMMAPER = re.compile(r"^\S.*Cannot initialize un-mmaper.*$")
_TRACE_LINE = re.compile(r"^(\s+at |\s+\.\.\. \d+ more|Caused by: |java\.lang\.\w*(Exception|Error)\b)")


@dataclass(frozen=True)
class LegacyClient:
    """The 3.11 nodetool ready to run: its jars and the compiled launcher."""

    dist: distribution.Distribution
    classes: Path

    @property
    def classpath(self) -> str:
        return f"{self.classes}:{self.dist.classpath}"


def client(java: str, settings: Settings, progress: Progress | None = None) -> LegacyClient:
    """The 3.11 client, fetched, verified and compiled once (the cache is shared by every cluster)."""
    dist = distribution.fetched(VERSION, settings, progress)
    try:
        classes = java_helpers.compiled(SOURCE, MAIN_CLASS, java, dist.classpath, settings.cache / "legacy-nodetool",
                                        VERSION)
    except (OSError, RuntimeError) as err:
        raise EnvironmentProblem(f"the DSE 5.1 nodetool's launcher could not be compiled: {err}",
                                 fix="install a JDK with javac (Java 11 or 17), or set DSELAB_NODETOOL=native") from None
    return LegacyClient(dist, classes)


def without_unmmaper_trace(stderr: str) -> str:
    """stderr less the un-mmaper warning and the stack trace under it; everything else kept as is."""
    out: list[str] = []
    skipping = False
    for line in stderr.splitlines(keepends=True):
        if _UNMMAPER.match(line.rstrip("\n")):
            skipping = True
            continue
        if skipping and _TRACE_LINE.match(line):
            continue
        skipping = False
        out.append(line)
    return "".join(out)
