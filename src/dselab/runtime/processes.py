"""The local nodes' processes through psutil (Linux and macOS alike): find, stop, kill, measure.

A node's process is found from its pid file (the runtime reads it, capped), and only counts when
its command line still names the node's own config folder: a pid can be reused by an unrelated
process after a crash.
"""

from __future__ import annotations

import time

import psutil

from dselab.errors import EnvironmentProblem

POLL_S = 0.2
KILL_WAIT_S = 30  # SIGKILL cannot be refused; a process stuck in the kernel can still linger


def alive(proc: psutil.Process) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def cmdline(proc: psutil.Process) -> list[str]:
    """The process's command line; empty once it is gone or hidden."""
    try:
        return list(proc.cmdline())
    except psutil.Error:
        return []


def node_process(pid: int, marker: str) -> psutil.Process | None:
    """The process `pid` (read from a node's pid file), if it is alive and `marker` is in its
    command line."""
    try:
        proc = psutil.Process(pid)
        cmdline = proc.cmdline()
    except (ValueError, psutil.Error):
        return None
    return proc if alive(proc) and any(marker in arg for arg in cmdline) else None


def reap(proc: psutil.Process) -> None:
    """Collect our own child's exit status so it does not linger as a zombie; others are left."""
    try:
        proc.wait(timeout=0)
    except psutil.Error:  # TimeoutExpired (still running, or not our child) or already gone
        pass


def wait_gone(proc: psutil.Process, timeout: float) -> bool:
    """Wait until the process has ended (reaping it if it is ours); False if it outlived timeout."""
    deadline = time.monotonic() + timeout
    while alive(proc):
        reap(proc)
        if time.monotonic() >= deadline:
            return not alive(proc)
        time.sleep(POLL_S)
    reap(proc)
    return True


def stop_all(procs: list[psutil.Process], grace: float) -> list[psutil.Process]:
    """SIGTERM to every one at once (Cassandra drains; each on its own core time), then SIGKILL to
    any still there `grace` seconds after. Those that had to be killed."""
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    deadline = time.monotonic() + grace
    killed = [proc for proc in procs if not wait_gone(proc, max(0.0, deadline - time.monotonic()))]
    for proc in killed:
        kill(proc)
    return killed


def kill(proc: psutil.Process) -> None:
    """SIGKILL and wait until it is gone: a crash, no drain."""
    try:
        proc.kill()
    except psutil.NoSuchProcess:
        return
    if not wait_gone(proc, KILL_WAIT_S):
        raise EnvironmentProblem(f"process {proc.pid} is still there {KILL_WAIT_S}s after SIGKILL",
                                 fix=f"look at it with `ps -o pid,stat,cmd -p {proc.pid}`")


def kill_each(procs: list[psutil.Process], wait_s: float, reaped: bool = False) -> list[psutil.Process]:
    """SIGKILL to every one at once, then wait until each has ended; those still there after wait_s.
    A zombie holds no memory, port or file and counts as ended: an init that reaps orphans late (a
    second or two in some sandboxes) kept a classroom reset waiting 3.5 s for four killed JVMs.
    `reaped`: until each has left the process table too (before its user is deleted)."""
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    if reaped:
        return list(psutil.wait_procs(procs, timeout=wait_s)[1])
    deadline = time.monotonic() + wait_s
    return [proc for proc in procs if not wait_gone(proc, max(0.0, deadline - time.monotonic()))]


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (0 when it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / (1 << 20)
    except psutil.Error:
        return 0.0
