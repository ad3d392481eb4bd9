"""A node's class archive made ahead, by one throwaway node that starts and stops cleanly.

    python -m dselab.runtime.archive_node    # DSELAB_HOME: a scratch folder; DSELAB_CACHE: where it goes

The JVM of a node started without an archive writes one as it exits (runtime.class_archive), so a
lab's second start is the fast one. A classroom's seats may not write into the shared toolchain, so
their nodes would never get one: root runs this once per toolchain instead, inside a network
namespace of its own, on the seats' jars (classroom.host.toolchain). It starts the one-node restore
cluster in the scratch home, stops it, and prints one line: the archive, or why there is none.
"""

from __future__ import annotations

import sys

from dselab.errors import DselabError
from dselab.runtime import class_archive, preflight
from dselab.runtime.local import SERVER_MAIN, LocalRuntime
from dselab.settings import Settings, resolve


def make(settings: Settings | None = None) -> class_archive.Archive:
    """The node archive of these settings' cache, made unless it is there already."""
    runtime = LocalRuntime("restore", config=resolve(settings))
    archive = runtime.archive_of(preflight.java_binary(runtime.config.java_home), SERVER_MAIN)
    if not archive.enabled or class_archive.trusted(archive.path):
        return archive
    nodes = list(runtime.node_names())
    try:
        runtime.up_nodes(nodes)
    finally:
        runtime.stop_nodes(nodes)  # a clean stop: the JVM dumps, then the dump is put in place
    return archive


def main() -> int:
    try:
        archive = make()
    except DselabError as err:
        print(f"no node archive: {err.one_line()}")
        return 1
    if not archive.enabled:
        print("no node archive: class archives are off (DSELAB_CLASS_ARCHIVES=0)")
        return 1
    if not class_archive.trusted(archive.path):
        print("no node archive: the node stopped without writing one")
        return 1
    print(archive.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
