"""The class-load run (issue 17): N seats work through lab 05's reference solutions at the same
time, with think time between commands, as a class does; for N = 1, 2, 3 by default.

    sudo .venv/bin/python benchmarks/class_load.py    # ~20 min; writes benchmarks/class-load-results.json

Each seat types every step's solution commands in its own shell (as its user, in its namespace:
the command line `classroom exec` runs), pauses, then presses Check (the server's in-process check,
as the page's button runs it). Reported per N: Check p50/p95, the students' nodetool commands
p50/p95 (`./scripts/nodetool*.sh` lines), every other command's p50/p95, errors (a command that
failed or a check that did not pass), the host's busy cores, and the largest N whose Check p95
stayed under 2 s. The seats are made once (`classroom up --seats <largest N>`); a seat that took
part in a round is reset before the next. Seats that sit out a round idle (about 0.1 core each).

BENCH_SEATS="1,2,3" picks the rounds, BENCH_THINK_S (default 4) the mean think time.
Runs its own classroom (DSELAB_CLASSROOM_ROOT=/var/lib/dselab/classroom-load), purged first and last.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("DSELAB_CLASSROOM_ROOT", "/var/lib/dselab/classroom-load")

from bench_classroom import classroom, empty_classroom  # noqa: E402
from bench_stats import busy_jiffies, percentiles  # noqa: E402

from dselab.catalogue import get_lab  # noqa: E402
from dselab.classroom import registry  # noqa: E402
from dselab.classroom.backends import open_backend  # noqa: E402
from dselab.classroom.recording import check_seat  # noqa: E402
from dselab.runtime import distribution  # noqa: E402
from dselab.templating import render_text, version_vars  # noqa: E402

ROUNDS = [int(n) for n in os.environ.get("BENCH_SEATS", "1,2,3").split(",")]
THINK_S = float(os.environ.get("BENCH_THINK_S", "4"))
OUT = Path(__file__).resolve().parent / "class-load-results.json"
CHECK_P95_TARGET_S = 2.0


def work_through(seat: registry.Seat, seed: int) -> dict[str, list]:
    """One student: every step's solution typed in the seat's shell, think time, then Check."""
    backend = open_backend()
    lab = get_lab("05")
    variables = version_vars(distribution.wanted_version(), "local")
    think = random.Random(seed)
    seen: dict[str, list] = {"check": [], "nodetool": [], "other": [], "errors": []}
    for step in lab.steps:
        for command in step.solution:
            line = render_text(command, variables)
            spec = backend.shell(seat, ["bash", "-c", line])
            began = time.monotonic()
            proc = subprocess.run(list(spec.argv), cwd=spec.cwd, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=900)
            took = time.monotonic() - began
            seen["nodetool" if line.startswith("./scripts/nodetool") else "other"].append(took)
            if proc.returncode != 0:
                seen["errors"].append(f"{seat.id} step {step.id}: `{line}` exit {proc.returncode}: "
                                      f"{proc.stderr.strip()[-200:]}")
            time.sleep(think.uniform(0.5, 1.5) * THINK_S)
        began = time.monotonic()
        results = check_seat(seat.id, "05", [step.id], backend)
        seen["check"].append(time.monotonic() - began)
        for result in results:
            if result.status != "pass":
                seen["errors"].append(f"{seat.id} step {step.id}: check {result.status}: {result.message[:200]}")
        time.sleep(think.uniform(0.5, 1.5) * THINK_S)
    return seen


def one_round(seats: list[registry.Seat]) -> dict[str, object]:
    jiffies, began = busy_jiffies(), time.monotonic()
    with ThreadPoolExecutor(max_workers=len(seats)) as pool:
        runs = list(pool.map(work_through, seats, range(len(seats))))
    wall = time.monotonic() - began
    merged: dict[str, list] = {key: [v for run in runs for v in run[key]] for key in runs[0]}
    return {"seats": len(seats), "wall_s": round(wall, 1),
            "host_busy_cores": round((busy_jiffies() - jiffies) / os.sysconf("SC_CLK_TCK") / wall, 2),
            "check": percentiles(merged["check"]), "student_nodetool": percentiles(merged["nodetool"]),
            "other_commands": percentiles(merged["other"]), "errors": merged["errors"]}


def main() -> None:
    layout = empty_classroom()
    results: dict[str, object] = {"command": "sudo .venv/bin/python benchmarks/class_load.py",
                                  "cpus": os.cpu_count(), "think_s_mean": THINK_S, "rounds": []}
    results["up_s"] = round(classroom("up", "--seats", str(max(ROUNDS)))[0], 1)
    everyone = list(registry.load(layout).values())
    used: list[registry.Seat] = []
    rounds: list[dict[str, object]] = []
    try:
        for n in ROUNDS:
            for seat in used:  # a fresh lab for every seat that worked in the last round
                classroom("reset", seat.id)
            used = everyone[:n]
            print(f"round: {n} seat(s) at once", file=sys.stderr, flush=True)
            rounds.append(one_round(used))
            print(json.dumps(rounds[-1], indent=1), file=sys.stderr, flush=True)
    finally:
        results["rounds"] = rounds
        held = [r["seats"] for r in rounds
                if not r["errors"] and float(r["check"].get("p95_s", 99)) < CHECK_P95_TARGET_S]  # type: ignore[union-attr]
        results["largest_n_with_check_p95_under_2s"] = max(held, default=0)
        OUT.write_text(json.dumps(results, indent=2) + "\n")
        classroom("down", "--purge")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
