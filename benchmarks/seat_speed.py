"""What a seat waits for (issue 17): its Check, a student's nodetool and a reset, each the way the
classroom serves it now and the ways it did before, side by side in one run on one seat.

    sudo .venv/bin/python benchmarks/seat_speed.py    # ~10 min; writes benchmarks/seat-speed-results.json

At `classroom up` root prepares the seats' toolchain (classroom.host.toolchain): nodetool's class
archive, and the warm nodetool server compiled. A seat and its observer may only read them.
The modes, one after another on the same seat:
- "warm": as served now: the observer's and the student's warm nodetool servers answer;
- "cold_archive": a JVM per nodetool call, on nodetool's archive (the compiled server moved aside
  and the running servers stopped: a seat cannot compile one, as before this change);
- "cold": a JVM per call without the archive either (as two changes ago).
Timed BENCH_REPEAT times each (default 6, after one round not counted, which starts what the mode
uses): Check of step 1 (snapshot) and of all 11 steps at once,
in process as the page's button runs it, and `./scripts/nodetool.sh listsnapshots` typed in the
seat's shell (`classroom exec`'s command line). Then `classroom reset` (three nodes from the
template, lab 05 afresh) BENCH_RESETS times (default 2): wall seconds and the host's busy CPU
seconds. Then a late joiner's seat: `classroom up --seats 2` beside the running one. And the
resident memory of the seat's two warm servers (what the capacity plan counts).
Runs its own classroom (DSELAB_CLASSROOM_ROOT=/var/lib/dselab/classroom-speed), purged first and last.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

os.environ.setdefault("DSELAB_CLASSROOM_ROOT", "/var/lib/dselab/classroom-speed")

from bench_classroom import classroom, empty_classroom  # noqa: E402
from bench_stats import busy_jiffies, percentiles  # noqa: E402

from dselab.catalogue import get_lab  # noqa: E402
from dselab.classroom import registry  # noqa: E402
from dselab.classroom.backends import open_backend  # noqa: E402
from dselab.classroom.host.seats import HostSeat  # noqa: E402
from dselab.classroom.recording import check_seat  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "6"))
RESETS = int(os.environ.get("BENCH_RESETS", "2"))
OUT = Path(__file__).resolve().parent / "seat-speed-results.json"
STEP1 = "./scripts/nodetool.sh snapshot training -t lab_backup"
MODES = ("warm", "cold_archive", "cold")


def timed(action: Callable[[], object]) -> float:
    began = time.monotonic()
    action()
    return time.monotonic() - began


def only(folder: Path, pattern: str) -> Path:
    found = list(folder.glob(pattern))
    if len(found) != 1:
        raise SystemExit(f"benchmark: expected one {pattern} in {folder}, found {found}")
    return found[0]


@contextlib.contextmanager
def moved_aside(*paths: Path) -> Iterator[None]:
    """The paths renamed away for the block (no JVM or launcher finds them), then put back."""
    for path in paths:
        path.rename(path.with_name(path.name + ".aside"))
    try:
        yield
    finally:
        for path in paths:
            away = path.with_name(path.name + ".aside")
            if away.exists():
                away.rename(path)


def warm_servers(seat: HostSeat) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["username", "cmdline"])
            if p.info["username"] in (seat.user, seat.observer) and "NodetoolServer" in (p.info["cmdline"] or [])]


def stop_warm_servers(seat: HostSeat) -> None:
    for proc in warm_servers(seat):
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(warm_servers(seat), timeout=10)


def main() -> None:
    layout = empty_classroom()
    results: dict[str, object] = {"command": "sudo .venv/bin/python benchmarks/seat_speed.py",
                                  "cpus": os.cpu_count(), "repeat": REPEAT, "resets": RESETS}
    try:
        results["up_1_seat_s"] = round(classroom("up", "--seats", "1")[0], 1)
        seat = next(iter(registry.load(layout).values()))
        backend = open_backend()
        host_seat = backend.seat(seat)
        cache = layout.toolchain / "cache"
        archives = cache / "class-archives"
        tool_archive = only(archives, "NodeTool-*.jsa")
        compiled = cache / "warm-nodetool"

        def shell(line: str) -> None:
            spec = backend.shell(seat, ["bash", "-c", line])
            proc = subprocess.run(list(spec.argv), cwd=spec.cwd, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=300)
            if proc.returncode != 0:
                raise SystemExit(f"benchmark: `{line}` failed: {proc.stderr[-400:]}")

        shell(STEP1)
        every_step = [s.id for s in get_lab("05").steps]
        aside = {"warm": (), "cold_archive": (compiled,), "cold": (compiled, tool_archive)}
        samples: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
        for mode in MODES:
            if mode != "warm":
                stop_warm_servers(host_seat)
            with moved_aside(*aside[mode]):
                for _ in range(REPEAT + 1):
                    seen = {"check_step_1": timed(lambda: check_seat(seat.id, "05", ["1"], backend)),
                            "check_all_11_steps": timed(lambda: check_seat(seat.id, "05", every_step, backend)),
                            "student_listsnapshots": timed(lambda: shell("./scripts/nodetool.sh listsnapshots"))}
                    for name, seconds in seen.items():
                        samples[mode].setdefault(name, []).append(seconds)
            if mode == "warm":
                results["warm_servers_rss_mib"] = [round(p.memory_info().rss / (1 << 20))
                                                   for p in warm_servers(host_seat)]
        results["nodetool"] = {mode: {name: percentiles(values[1:]) for name, values in seen.items()}
                               for mode, seen in samples.items()}  # the first round of each mode starts it up
        resets: dict[str, list[float]] = {"wall_s": [], "host_cpu_s": []}
        for _ in range(RESETS):
            jiffies = busy_jiffies()
            resets["wall_s"].append(timed(lambda: classroom("reset", seat.id)))
            resets["host_cpu_s"].append((busy_jiffies() - jiffies) / os.sysconf("SC_CLK_TCK"))
        results["reset"] = {label: percentiles(values) for label, values in resets.items()}
        # A late joiner: one more seat while the first keeps running (`up` makes only what is missing).
        results["late_joiner_seat_s"] = round(classroom("up", "--seats", "2")[0], 1)
    finally:
        classroom("down", "--purge")
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
