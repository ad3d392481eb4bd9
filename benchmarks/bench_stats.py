"""The latency summary every benchmark reports (p50 and p95 by nearest rank, min, max and count),
the host's busy CPU time that some report beside it, and a command timed as a student runs it."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3),
            "min_s": round(ordered[0], 3), "max_s": round(ordered[-1], 3), "n": len(ordered)}


def busy_jiffies() -> int:
    """The host's busy CPU time so far (all but idle and iowait), in clock ticks (os.sysconf("SC_CLK_TCK"))."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def timed_command(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one command in a fresh process; a failed command ends the benchmark with its
    last words (a timing of a failure is no figure)."""
    t0 = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(argv)} failed ({proc.returncode}): "
                         f"{proc.stdout[-400:]} {proc.stderr[-400:]}")
    return elapsed
