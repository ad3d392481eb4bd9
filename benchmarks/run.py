"""Measure what users feel: cluster up time, check latency on a warm cluster, cluster memory.

    .venv/bin/python benchmarks/run.py            # prints a table and writes benchmarks/results.json

Runs against its own DSELAB_HOME (build/bench-home), loopback range and JMX ports, from a purged
cluster, so a developer's lab is left alone. Figures are reported, not asserted: they depend on
the machine. Each step is solved before its check is timed, so the timed check takes its full
(passing) path, the slowest one: a failing check often stops at its first missing piece.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DSELAB_HOME", str(Path(__file__).resolve().parents[1] / "build" / "bench-home"))
os.environ.setdefault("DSELAB_LOOPBACK", "127.0.58")
os.environ.setdefault("DSELAB_JMX_BASE", "8555")
os.environ["DSELAB_RUNTIME"] = "local"

from dselab import service  # noqa: E402
from dselab.catalogue import get_lab  # noqa: E402
from dselab.progress import Console  # noqa: E402
from dselab.runtime.local_settings import LocalSettings  # noqa: E402
from dselab.runtime.processes import rss_mib  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
# step to time -> the steps solved before it (in lab order)
TIMED = {"snapshot": ["snapshot"], "incremental": ["list", "incremental"], "cleanup": ["clear", "cleanup"]}


def timed_cli(args: list[str]) -> float:
    """Wall time of one `dselab` command as a student runs it (a fresh Python process)."""
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "dselab", *args], capture_output=True, cwd=REPO, check=False)
    return time.monotonic() - t0


def timed_in_process(ws: service.Workspace, step_id: str) -> float:
    """Wall time of the check alone, as the web lab's Check button runs it."""
    lab = get_lab("05")
    t0 = time.monotonic()
    result = service.check_one(ws, lab, lab.step(step_id), source="bench")
    elapsed = time.monotonic() - t0
    if not result.passed:
        raise SystemExit(f"benchmark: step {step_id} did not pass after its solve: {result.message}")
    return elapsed


def spread(samples: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(samples), 2), "min_s": round(min(samples), 2),
            "max_s": round(max(samples), 2)}


def main() -> None:
    ws = service.open_workspace("local", progress=Console())
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    t0 = time.monotonic()
    service.start_lab(ws, "05", progress=Console())
    results: dict[str, object] = {"cold_up_with_data_s": round(time.monotonic() - t0, 1), "runs": RUNS}
    results["up_when_already_running"] = spread([timed_cli(["up"]) for _ in range(3)])

    lab = get_lab("05")
    for step_id, solve_first in TIMED.items():
        service.solve(ws, "05", solve_first)
        number = str(lab.step(step_id).number)
        print(f"timing check 05 {number} ({step_id}) x{RUNS}", file=sys.stderr)
        results[f"check_05_{number}_{step_id}_cli"] = spread([timed_cli(["check", "05", number]) for _ in range(RUNS)])
        results[f"check_05_{number}_{step_id}_in_process"] = spread([timed_in_process(ws, step_id) for _ in range(RUNS)])

    nodes = [s for s in ws.runtime.status() if s.pid]
    results["cluster_rss_mib"] = {s.name: round(rss_mib(s.pid)) for s in nodes}
    results["cluster_rss_total_mib"] = round(sum(rss_mib(s.pid) for s in nodes))
    results["heap_mb_per_node"] = LocalSettings.from_env().heap_mb
    ws.runtime.down(purge=True)
    ws.close()
    print(json.dumps(results, indent=2))
    (Path(__file__).parent / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
