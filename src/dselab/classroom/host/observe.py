"""Running a host seat's observer (classroom.observer) for the server: who, where, with what limits.

    ip netns exec <seat ns> prlimit <caps> -- runuser -u <observer> -- env -i <env> <python> -I -m ...

The observer user is the seat's own reader: in the seat's group (read access to the seat's
folders), not the seat user (the seat cannot signal or trace it), never root, holding no secret.
Its environment is built from nothing; its home is its own; it runs inside the seat's namespace
(it reaches that seat's nodes and no other). What it prints goes to a file root opened beforehand,
capped by RLIMIT_FSIZE; the run is capped in time, and every process of the observer user is killed
when it overruns. The raw answer goes back to the server, which parses and validates it
(classroom.observation).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from typing import Any

from dselab import settings as knobs
from dselab.classroom.backend import Observed
from dselab.classroom.host import namespaces, users
from dselab.classroom.host.seats import (
    ROOT_PATH,
    SEAT_JMX_BASE,
    SEAT_LOOPBACK,
    HostSeat,
    kill_user_processes,
    passed_through,
)
from dselab.classroom.host.toolchain import Toolchain, current
from dselab.classroom.layout import Layout
from dselab.classroom.observation import MAX_OUTPUT_BYTES
from dselab.errors import EnvironmentProblem

# Every nodetool JVM is a child of the observer: address space for a JVM with -Xmx256m and its
# reservations, processes and threads for a few JVMs at once, no core dumps.
RLIMITS = {"as": 4 << 30, "nproc": 512, "fsize": MAX_OUTPUT_BYTES, "nofile": 1024, "core": 0}
TIMEOUTS_S = {"baseline": 60.0, "status": 90.0, "check": 600.0}
PASSED_THROUGH = (knobs.JAVA_HOME, knobs.CASSANDRA_VERSION)  # the server's, if set


def observer_env(layout: Layout, seat: HostSeat, toolchain: Toolchain) -> dict[str, str]:
    env = {
        "PATH": f"{toolchain.bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(layout.observer_home(seat.observer)),
        "LANG": "C.UTF-8", knobs.RUNTIME: "local", knobs.HOME: str(seat.cluster_home),
        knobs.CACHE: str(toolchain.cache), knobs.TOOLS_CONF: str(layout.tools_conf),
        # Its warm nodetool server's socket (runtime.nodetool_server): in its own home, never the seat's.
        knobs.WARM_NODETOOL_DIR: str(layout.observer_home(seat.observer) / "run"),
        knobs.LOOPBACK: SEAT_LOOPBACK, knobs.JMX_BASE: SEAT_JMX_BASE,
    }
    env.update(passed_through(layout.settings, PASSED_THROUGH))
    if toolchain.cassandra_home:
        env[knobs.CASSANDRA_HOME] = toolchain.cassandra_home
    return env


def observer_argv(layout: Layout, seat: HostSeat, toolchain: Toolchain) -> list[str]:
    caps = [f"--{name}={value}" for name, value in RLIMITS.items()]
    env = [f"{k}={v}" for k, v in observer_env(layout, seat, toolchain).items()]
    return namespaces.inside(seat.netns, ["prlimit", *caps, "--", "runuser", "-u", seat.observer, "--",
                                          "env", "-i", *env, str(toolchain.python), "-I", "-m",
                                          "dselab.classroom.observer"])


def make_observer(layout: Layout, seat: HostSeat) -> None:
    """The seat's observer user and its home (idempotent; `classroom up` and reset call it)."""
    home = layout.observer_home(seat.observer)
    entry = users.create_observer(seat.user, home)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)


def observe(layout: Layout, seat: HostSeat, request: dict[str, Any], timeout: float | None = None) -> Observed:
    """One run of the seat's observer: its exit code and raw output (parsed and validated by the server)."""
    if not namespaces.exists(seat.netns):
        raise EnvironmentProblem(f"seat {seat.id} has no namespace (not up)", fix="run `dselab classroom up`")
    if users.lookup(seat.observer) is None:
        raise EnvironmentProblem(f"seat {seat.id} has no observer user", fix="run `dselab classroom up` again")
    timeout = timeout or TIMEOUTS_S.get(str(request.get("op")), 120.0)
    layout.observations.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=layout.observations) as out, tempfile.TemporaryFile(dir=layout.observations) as err:
        proc = subprocess.Popen(observer_argv(layout, seat, current(layout)), stdin=subprocess.PIPE, stdout=out,
                                stderr=err, cwd="/", env={"PATH": ROOT_PATH}, start_new_session=True)
        try:
            proc.communicate(json.dumps(request).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            _end(proc, seat)
            raise EnvironmentProblem(f"seat {seat.id}: the check did not finish within {timeout:.0f}s",
                                     fix="see the seat's nodes in its terminal (`dselab status`), then check again") \
                from None
        out.seek(0)
        data = out.read(MAX_OUTPUT_BYTES + 1)
    return Observed(proc.returncode, data)


def _end(proc: subprocess.Popen[bytes], seat: HostSeat) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    kill_user_processes(seat, seat.observer, 10)  # what it started, too
    proc.wait()
