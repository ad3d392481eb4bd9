"""A node's class archive for the seats, made by root once per toolchain (runtime.class_archive).

A node started without an archive writes one as it exits cleanly, so a lab's later starts map it.
Seats may not write into the shared toolchain, so their nodes (and the template builder's) would
never get one. Root makes it instead, with a throwaway one-node cluster (runtime.archive_node) that
starts and stops cleanly: in a network namespace of its own (no seat reaches it, it reaches no
seat), in a scratch home removed afterwards, on the shared jars. Nothing a seat controls is
touched. A failure only costs speed: it is said, and the class goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable

from dselab import settings as knobs
from dselab.classroom.host import namespaces
from dselab.classroom.host.seats import PASSED_THROUGH, SEAT_JMX_BASE, SEAT_LOOPBACK, passed_through
from dselab.classroom.host.toolchain import Toolchain
from dselab.classroom.layout import Layout
from dselab.errors import DselabError

TIMEOUT_S = 300
ARCHIVE_GLOB = "CassandraDaemon-*.jsa"


def ensure(layout: Layout, tools: Toolchain, say: Callable[[str], None]) -> None:
    if not layout.settings.class_archives:
        return
    scratch = layout.toolchain / "archive-node"
    netns = namespaces.PREFIX + "archive-" + hashlib.sha256(str(layout.root).encode()).hexdigest()[:8]
    env = {name: value for name, value in os.environ.items() if not name.startswith("DSELAB_")}
    env.update({knobs.HOME: str(scratch), knobs.CACHE: str(tools.cache), knobs.LOOPBACK: SEAT_LOOPBACK,
                knobs.JMX_BASE: SEAT_JMX_BASE, **passed_through(layout.settings, PASSED_THROUGH)})
    if tools.cassandra_home:
        env[knobs.CASSANDRA_HOME] = tools.cassandra_home
    say("a node's class archive: starting and stopping a throwaway node (once per toolchain)")
    try:
        namespaces.create(netns)
        proc = subprocess.run(namespaces.inside(netns, [sys.executable, "-m", "dselab.runtime.archive_node"]),
                              env=env, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
        said = (proc.stdout.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    except subprocess.TimeoutExpired:
        said = f"no node archive: the throwaway node took over {TIMEOUT_S} s"
    except DselabError as err:
        said = f"no node archive: {err.one_line()}"
    finally:
        for pid in namespaces.pids(netns):  # a node left by a run that timed out
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        namespaces.remove(netns)
        shutil.rmtree(scratch, ignore_errors=True)
    for made in (tools.cache / "class-archives").glob(ARCHIVE_GLOB):
        made.chmod(0o644)  # every seat maps it; no one but root writes it
    say("a node's class archive ready" if said.startswith("/") else f"nodes run without a class archive ({said})")
