"""Limits per seat on two real seats (issue 16, item 5): a fork bomb and a 20 GiB allocation in
mallory's seat hurt mallory's seat only. Meanwhile victim's Check, through a running
`classroom serve`, passes within 10 s, and the server and the host keep going.

First the limits are shown to be in place (the seat shell's `ulimit -u` and cgroups, the seat's node
JVMs in the same): no bomb runs without them. Both attacks run under `timeout 60`, and the test
kills what is left of them by pid; mallory's nodes are restarted if the attack took one down.
Figures (threads per node, memory, how the limits bit) are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from classroom_web import classroom_serve
from simple_websocket import Client
from trust_room import MALLORY, ROOT, VICTIM, as_seat, classroom

from dselab.classroom.host import cgroups, limits, seats
from dselab.classroom.host.seats import HostSeat
from dselab.classroom.layout import ROOT_ENV, Layout
from dselab.classroom.web.join_links import live_auth
from dselab.classroom.web.server import SEAT_COOKIE

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="the classroom creates users and namespaces: root only")]

CHECK_WITHIN_S = 10
HOG = "b = bytearray(20 << 30); b[::4096] = b'x' * len(b[::4096])"  # 20 GiB, every page touched
BOMB = ":(){ :|:& };:"
ATTACK = f'timeout 60 python3 -c "{HOG}" & sleep 2; timeout 60 bash -c "{BOMB}" & wait'


def folder_of(seat: HostSeat, controller: str) -> Path | None:
    for base in limits.offered():
        if controller in base.controllers:
            return base.seat_dir(seat.user)
    return None


def read(folder: Path | None, name: str) -> str:
    try:
        return (folder / name).read_text().strip() if folder else ""
    except OSError:
        return ""


def nproc(pid: int) -> list[str]:
    """A process's RLIMIT_NPROC, soft and hard (psutil's prlimit call needs CAP_SYS_RESOURCE)."""
    line = next(ln for ln in Path(f"/proc/{pid}/limits").read_text().splitlines() if ln.startswith("Max processes"))
    return line.split()[2:4]


def oom_kills(folder: Path | None) -> int:
    """How many processes the seat's memory limit killed (v1 memory.oom_control, v2 memory.events)."""
    for name in ("memory.oom_control", "memory.events"):
        for line in read(folder, name).splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    return 0


def seat_cookie(seat: str) -> str:
    """The seat's cookie as its join link sets it (the served classroom's live link state)."""
    return f"{SEAT_COOKIE}={live_auth(Layout(ROOT)).seat_cookie(seat)}"


def post_check(url: str, seat: str, step: str = "1") -> tuple[dict, float]:
    """The seat's Check button: POST to its check route with its cookie; (result, seconds)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    started = time.monotonic()
    try:
        conn.request("POST", f"/seat/{seat}/api/labs/05/steps/{step}/check", body="{}",
                     headers={"Content-Type": "application/json",
                              "Cookie": seat_cookie(seat)})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, body[:300]
    return json.loads(body), time.monotonic() - started


def terminal_says(url: str, seat: str, command: str, marker: str, timeout_s: float = 60) -> str:
    """Type `command` in the seat's page terminal (its websocket); its output up to `marker`."""
    origin = "http://127.0.0.1"  # the client sends Host without the port
    ws = Client.connect(url.replace("http://", "ws://") + f"/seat/{seat}/terminal",
                        headers={"Cookie": seat_cookie(seat), "Origin": origin})
    out, deadline = "", time.monotonic() + timeout_s
    try:
        ws.send(json.dumps({"type": "input", "data": command + "\r"}))
        while marker not in out:
            assert time.monotonic() < deadline, out[-500:]
            data = ws.receive(timeout=1)
            if data is None:
                ws.send(json.dumps({"type": "input", "data": ""}))  # a frame read with the handshake waits for more
            else:
                out += data.decode(errors="replace") if isinstance(data, bytes) else data
        return out
    finally:
        ws.close()


def test_a_seats_shell_terminal_and_nodes_run_under_its_limits(trust_room) -> None:
    plan = limits.plan()
    mallory: HostSeat = trust_room.mallory
    offered = limits.offered()
    with classroom_serve(ROOT) as served:  # the page terminal: seats.shell_spec
        said = terminal_says(served.url, MALLORY,
                             'echo "NPROC $(ulimit -u) CGROUPS $(grep -c /dselab-seat- /proc/self/cgroup) END"',
                             "END\r")
    assert f"NPROC {plan.procs} CGROUPS {len(offered)} END" in said, said[-500:]
    shell = as_seat(MALLORY, "ulimit -u; cat /proc/self/cgroup")  # `classroom exec`
    assert shell.returncode == 0, shell.stderr
    lines = shell.stdout.splitlines()
    assert lines[0] == str(plan.procs)
    assert offered, "this host offers cgroups: the seat must be in them"
    for base in offered:
        assert any(line.endswith(f"/dselab-seat-{mallory.user}") and any(c in line.split(":")[1].split(",")
                                                                         for c in base.controllers)
                   for line in lines[1:]), (base, lines)
    nodes = seats.node_processes(mallory)
    assert len(nodes) >= 3
    for name, proc in nodes.items():
        assert nproc(proc.pid) == [str(plan.procs)] * 2, name
        assert f"/dselab-seat-{mallory.user}" in Path(f"/proc/{proc.pid}/cgroup").read_text(), name
    memory = folder_of(mallory, "memory")
    print(f"\nlimits: {limits.describe(plan)}")
    print("node threads and RSS: " + ", ".join(f"{n} {p.num_threads()} threads {p.memory_info().rss >> 20} MiB"
                                                for n, p in sorted(nodes.items())))
    print(f"seat: {read(folder_of(mallory, 'pids'), 'pids.current')} processes/threads, "
          f"{int(read(memory, 'memory.usage_in_bytes') or read(memory, 'memory.current') or 0) >> 20} MiB")


def _kill_leftovers(seat: HostSeat, keep: set[int]) -> int:
    """SIGKILL, by pid, every process of the seat that is not one of its nodes, until none is left."""
    killed, uid = 0, pwd.getpwnam(seat.user).pw_uid
    pids_folder = folder_of(seat, "pids") or folder_of(seat, "memory")
    for _ in range(100):
        found = set(cgroups.pids_in(pids_folder)) if pids_folder else set()
        found |= {p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid}
        left = found - keep
        if not left:
            return killed
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"{seat.id}: processes keep coming back")


def test_fork_bomb_and_20_gib_in_one_seat_leave_another_seats_check_passing(trust_room) -> None:
    mallory = trust_room.mallory
    pids, memory = folder_of(mallory, "pids"), folder_of(mallory, "memory")
    plan = limits.plan()
    # no bomb without its bounds: NPROC in the seat's shell and the pids cap on its cgroup
    assert as_seat(MALLORY, "ulimit -u").stdout.strip() == str(plan.procs)
    assert pids is None or read(pids, "pids.max") == str(plan.procs)
    step_1 = ("./scripts/nodetool.sh listsnapshots | grep -q lab_backup || "
              "./scripts/nodetool.sh snapshot training -t lab_backup")
    assert as_seat(VICTIM, step_1).returncode == 0  # (an earlier test in the shared room may have done it)
    nodes_before = {name: p.pid for name, p in seats.node_processes(mallory).items()}
    victim_nodes = {name: p.pid for name, p in seats.node_processes(trust_room.victim).items()}
    host_before = psutil.virtual_memory().available

    with classroom_serve(ROOT) as served:
        quiet, quiet_s = post_check(served.url, VICTIM)
        assert quiet["status"] == "pass", quiet
        attack = subprocess.Popen([sys.executable, "-m", "dselab", "classroom", "exec", MALLORY, "--", "bash", "-c",
                                   ATTACK], env={**os.environ, ROOT_ENV: str(ROOT)}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 45  # until both attacks hit their bounds
            while time.monotonic() < deadline:
                full = pids is None or int(read(pids, "pids.current") or 0) >= plan.procs * 0.9
                hit = memory is None or oom_kills(memory) > 0
                if full and hit:
                    break
                time.sleep(0.5)
            assert full and hit, (read(pids, "pids.current"), oom_kills(memory))
            during = [post_check(served.url, VICTIM) for _ in range(2)]
            peak_pids = read(pids, "pids.current")
            peak_mib = int(read(memory, "memory.max_usage_in_bytes") or read(memory, "memory.peak") or 0) >> 20
            server_alive = http.client.HTTPConnection(urlsplit(served.url).hostname, urlsplit(served.url).port, timeout=10)
            server_alive.request("GET", "/")
            assert server_alive.getresponse().status == 200
        finally:
            killed = _kill_leftovers(mallory, {p.pid for p in seats.node_processes(mallory).values()})
            attack.wait(timeout=120)

    print(f"\nvictim's check: {quiet_s:.1f}s quiet, " + ", ".join(f"{s:.1f}s" for _, s in during)
          + f" during mallory's attack; mallory at {peak_pids} processes/threads (cap {plan.procs}), "
          f"memory peak {peak_mib} MiB (limit {plan.memory_mib} MiB), {oom_kills(memory)} OOM kill(s); "
          f"{killed} leftovers killed; "
          f"host available memory {host_before >> 20} -> {psutil.virtual_memory().available >> 20} MiB")
    for result, seconds in during:
        assert result["status"] == "pass", result
        assert seconds < CHECK_WITHIN_S, f"victim's check took {seconds:.1f}s during mallory's attack"
    assert psutil.virtual_memory().available > 2 << 30  # the host never came near the 20 GiB
    assert {name: p.pid for name, p in seats.node_processes(trust_room.victim).items()} == victim_nodes

    nodes_after = {name: p.pid for name, p in seats.node_processes(mallory).items()}
    lost = sorted(name for name, pid in nodes_before.items() if nodes_after.get(name) != pid)
    print(f"mallory's nodes lost to the attack: {lost or 'none'}")
    if lost:  # the attack took one of mallory's own nodes: start what is missing, as an instructor would
        up = classroom("up")
        assert up.returncode == 0, up.stdout + up.stderr
    assert seats.running(mallory)
    assert as_seat(MALLORY, "./scripts/nodetool.sh status").returncode == 0
