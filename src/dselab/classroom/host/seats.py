"""One host seat's life: create (user, home, namespace), start (cluster as the seat user), stop,
wipe, remove. Every command a seat runs goes through `seat_argv`: inside the
seat's namespace, under the seat's limits (classroom.host.limits), as the seat's user, with the seat's
environment and nothing of the server's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from dselab import settings as knobs
from dselab.classroom.host import limits, namespaces, users
from dselab.classroom.host.toolchain import Toolchain
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web.terminal import ShellSpec
from dselab.errors import EnvironmentProblem
from dselab.runtime import processes
from dselab.runtime.base import LAB_NODES
from dselab.settings import Settings
from dselab.state import StateStore

SEAT_PROFILE_ENV = knobs.CLASSROOM_NODE_PROFILE  # node settings for seats; "small" unless set
SEAT_LOOPBACK, SEAT_JMX_BASE = "127.0.55", "7155"  # the lab's usual ones: every seat has its own loopback
PASSED_THROUGH = (knobs.JAVA_HOME, knobs.START_TIMEOUT, knobs.CASSANDRA_VERSION)  # the server's, if set
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TEMP_DIRS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))

Lines = Callable[[str], None]


@dataclass(frozen=True)
class HostSeat:
    """A seat as this host keeps it: its Unix user, network namespace and home, all derived from the
    seat id (so nothing of them is stored: the registry keeps the classroom's `Seat` only)."""

    seat: Seat
    user: str
    netns: str
    home: Path

    @classmethod
    def of(cls, layout: Layout, seat: Seat) -> HostSeat:
        user = users.user_name(seat.id)
        return cls(seat=seat, user=user, netns=namespaces.netns_name(user), home=layout.seat_home(user))

    @property
    def id(self) -> str:
        return self.seat.id

    @property
    def store_dir(self) -> Path:
        """The server's store of the seat (the classroom's: never opened by anything of the seat's)."""
        return self.seat.store_dir

    def server_store(self) -> StateStore:
        return self.seat.server_store()

    @property
    def observer(self) -> str:
        """The user that reads this seat for the server (classroom.host.observe)."""
        return users.observer_name(self.user)

    @property
    def cluster_home(self) -> Path:
        """DSELAB_HOME inside the seat: its clusters and the seat's own (untrusted) store."""
        return self.home / ".dselab"


def passed_through(settings: Settings, names: Sequence[str]) -> dict[str, str]:
    """The server's own settings among `names` that a seat's processes get too, where set."""
    given = settings.changed_env()
    return {name: given[name] for name in names if name in given}


def seat_env(seat: HostSeat, toolchain: Toolchain) -> dict[str, str]:
    """The seat shell's whole environment (built from nothing: the server's never leaks in)."""
    settings = toolchain.settings
    env = {
        "HOME": str(seat.home), "USER": seat.user, "LOGNAME": seat.user, "SHELL": "/bin/bash",
        "PATH": f"{toolchain.bin_dir}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
        "TERM": "xterm-256color", knobs.SEAT: seat.id, knobs.RUNTIME: "local",
        knobs.HOME: str(seat.cluster_home), knobs.CACHE: str(toolchain.cache),
        knobs.LOOPBACK: SEAT_LOOPBACK, knobs.JMX_BASE: SEAT_JMX_BASE,
        knobs.NODE_PROFILE: settings.classroom.node_profile,
        # The class's cluster template, made by its builder user (classroom.host.seat_template): a seat
        # reads and copies it, and may not write there (runtime/template.py, Template.shared).
        knobs.TEMPLATE: "1" if toolchain.templates else "0",
    }
    if toolchain.templates:
        env[knobs.TEMPLATE_DIR] = str(toolchain.templates)
    if toolchain.cassandra_home:
        env[knobs.CASSANDRA_HOME] = toolchain.cassandra_home
    env.update(passed_through(settings, PASSED_THROUGH))
    return env


def seat_argv(seat: HostSeat, toolchain: Toolchain, argv: Sequence[str]) -> list[str]:
    """argv as the seat's user, inside its namespace, under its limits, with its environment (run it
    with cwd=home)."""
    env = [f"{k}={v}" for k, v in seat_env(seat, toolchain).items()]
    as_user = ["runuser", "-u", seat.user, "--", "env", "-i", *env, *argv]
    inside = namespaces.inside(seat.netns, as_user)
    return limits.wrap(seat.user, inside, settings=toolchain.settings)  # `ip netns exec` hides /sys/fs/cgroup


def shell_argv(seat: HostSeat, toolchain: Toolchain) -> list[str]:
    """The seat's login shell: what a terminal (the browser's PTY) runs, in the seat's home."""
    return seat_argv(seat, toolchain, ["bash", "-l"])


def shell_spec(seat: HostSeat, toolchain: Toolchain) -> ShellSpec:
    """The seat's terminal for the classroom web server (classroom.terminal): its login shell, run
    by root through `ip netns exec` and `runuser`, which find their tools on the server's PATH."""
    return ShellSpec(tuple(shell_argv(seat, toolchain)), seat.home, {"PATH": ROOT_PATH, "TERM": "xterm-256color"})


def run_as_seat(seat: HostSeat, toolchain: Toolchain, argv: Sequence[str], on_line: Lines | None = None,
                timeout: float = 1800) -> tuple[int, str]:
    """Run a command as the seat; each output line goes to `on_line` as it comes. (exit, output)"""
    proc = subprocess.Popen(seat_argv(seat, toolchain, argv), cwd=seat.home, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if on_line:
            on_line(lines[-1])
        if time.monotonic() > deadline:
            proc.kill()
            break
    return proc.wait(), "\n".join(lines)


def _require(seat: HostSeat, toolchain: Toolchain, argv: Sequence[str], on_line: Lines | None) -> None:
    code, output = run_as_seat(seat, toolchain, argv, on_line)
    if code != 0:
        last = [ln for ln in output.splitlines() if ln.strip()][-1:] or ["(no output)"]
        raise EnvironmentProblem(f"seat {seat.id}: `{' '.join(argv)}` failed (exit {code}): {last[0]}")


# -- create and fill ------------------------------------------------------------------------------


def create(seat: HostSeat) -> None:
    """User, home (0750: the seat's, readable by its group, whose other member is the seat's observer),
    namespace."""
    users.check_free(seat.user)
    entry = users.create(seat.user, seat.home)
    seat.home.mkdir(mode=0o750, exist_ok=True)
    os.chown(seat.home, entry.pw_uid, entry.pw_gid)
    seat.home.chmod(0o750)
    namespaces.create(seat.netns)


def fill_home(seat: HostSeat, toolchain: Toolchain) -> None:
    """Student scripts and lab files, `.venv` -> the shared toolchain, a prompt naming the seat.

    Copied by the seat user itself from the toolchain's home template: root never writes into a
    home the student may have filled with links (a `.bashrc` pointing at /etc/passwd, say)."""
    script = 'cp -R --remove-destination "$1"/. "$HOME"/ && ln -sfn "$2" "$HOME/.venv" && mkdir -p "$HOME/.dselab"'
    proc = subprocess.run(["runuser", "-u", seat.user, "--", "env", "-i", f"HOME={seat.home}", "PATH=/usr/bin:/bin",
                           "sh", "-c", script, "fill-home", str(toolchain.home_template), str(toolchain.venv)],
                          cwd=seat.home, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise EnvironmentProblem(f"seat {seat.id}: cannot fill its home: {proc.stderr.strip()[-300:]}")


# -- processes ------------------------------------------------------------------------------------


def _seat_processes(seat: HostSeat, user: str | None = None) -> list[psutil.Process]:
    entry = users.lookup(user or seat.user)
    if entry is None:
        return []
    found = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info["uids"]
        if uids and entry.pw_uid in (uids.real, uids.effective):
            found.append(proc)
    return found


def node_processes(seat: HostSeat) -> dict[str, psutil.Process]:
    """The seat's running Cassandra nodes by name (from each JVM's -Dcassandra.config path)."""
    nodes: dict[str, psutil.Process] = {}
    for proc in _seat_processes(seat):
        try:
            cmdline = proc.cmdline()
        except psutil.Error:
            continue
        for arg in cmdline:
            if arg.startswith("-Dcassandra.config=") and arg.endswith("/conf/cassandra.yaml"):
                nodes[Path(arg.split("=", 1)[1]).parent.parent.name] = proc
    return nodes


def running(seat: HostSeat) -> bool:
    return set(LAB_NODES) <= set(node_processes(seat))


def kill_processes(seat: HostSeat, settings: Settings | None = None, reaped: bool = False) -> int:
    """SIGKILL every process of the seat's user (its nodes, its shells) and of its observer; how many.
    `reaped`: wait until they have left the process table (the users are deleted next)."""
    # Everything in its cgroups first: a fork bomb races one pass.
    for folder in limits.seat_folders(seat.user, settings=settings):
        limits.kill_all(folder)
    return (kill_user_processes(seat, seat.user, 30, reaped)
            + kill_user_processes(seat, seat.observer, 10, reaped))


def kill_user_processes(seat: HostSeat, user: str, wait_s: float, reaped: bool = False) -> int:
    """SIGKILL every process of one of the seat's users (it or its observer); how many. Returns
    once each has ended (a zombie has), or with `reaped` once each has left the process table."""
    procs = _seat_processes(seat, user)
    processes.kill_each(procs, wait_s, reaped)
    return len(procs)


# -- lifecycle ------------------------------------------------------------------------------------


def start(seat: HostSeat, toolchain: Toolchain, on_line: Lines | None = None) -> None:
    """The seat's cluster up as its user (first time: data loaded, dse-node-2 bootstrapped)."""
    namespaces.create(seat.netns)
    _require(seat, toolchain, ["dselab", "up"], on_line)


def stop(seat: HostSeat, toolchain: Toolchain, on_line: Lines | None = None) -> None:
    """Stop the seat's clusters as its user, keeping data."""
    if users.lookup(seat.user) is None or not namespaces.exists(seat.netns):
        return
    _require(seat, toolchain, ["dselab", "restore-cluster", "down"], on_line)
    _require(seat, toolchain, ["dselab", "down"], on_line)


def wipe_cluster(seat: HostSeat, settings: Settings | None = None) -> None:
    """Kill the seat's processes and delete its clusters and its seat-side store (reset); the seat
    user deletes its own files, so a link it planted leads nowhere. (The server's store of the seat
    is the classroom's to clear.)"""
    kill_processes(seat, settings)
    subprocess.run(["runuser", "-u", seat.user, "--", "rm", "-rf", str(seat.cluster_home)],
                   capture_output=True, stdin=subprocess.DEVNULL)


def remove(seat: HostSeat, settings: Settings | None = None) -> None:
    """Everything of the seat on this host: processes, namespace, user, home, temp files."""
    entry = users.lookup(seat.user)
    kill_processes(seat, settings, reaped=True)
    limits.remove(seat.user, settings=settings)
    namespaces.remove(seat.netns)
    if entry is not None and users.is_seat_user(seat.user):
        for folder in TEMP_DIRS:
            for item in folder.glob("*") if folder.is_dir() else []:
                try:
                    owned = item.lstat().st_uid == entry.pw_uid
                except OSError:
                    continue
                if owned:
                    shutil.rmtree(item, ignore_errors=True) if item.is_dir() and not item.is_symlink() else item.unlink()
        users.remove(seat.user)
    shutil.rmtree(seat.home, ignore_errors=True)
