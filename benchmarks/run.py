"""Measure what users feel: cluster up time, check latency on a warm cluster, cluster memory.

    .venv/bin/python benchmarks/run.py            # prints a table and writes benchmarks/results.json

Runs against its own DSELAB_HOME (build/bench-home) and loopback range, from a purged cluster.
Figures are reported, not asserted: they depend on the machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

os.environ.setdefault("DSELAB_HOME", str(Path(__file__).resolve().parents[1] / "build" / "bench-home"))
os.environ.setdefault("DSELAB_LOOPBACK", "127.0.58")
os.environ.setdefault("DSELAB_JMX_BASE", "8555")

from dselab import service  # noqa: E402
from dselab.runtime.base import LAB_NODES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_cli(args: list[str]) -> float:
    t0 = time.monotonic()
    subprocess.run([str(REPO / ".venv" / "bin" / "dselab"), *args], capture_output=True, cwd=REPO)
    return time.monotonic() - t0


def main() -> None:
    ws = service.open_workspace("local")
    ws.runtime.down(purge=True)
    ws.store.delete_prefix("")
    t0 = time.monotonic()
    service.start_lab(ws, "05")
    cold_up = time.monotonic() - t0
    results: dict[str, object] = {"cold_up_with_data_s": round(cold_up, 1)}
    results["warm_up_cluster_sh_s"] = round(statistics.median(
        timed_cli(["up"]) for _ in range(3)), 2)
    service.solve(ws, "05", ["snapshot"])
    for step in ("1", "3", "5"):
        samples = [timed_cli(["check", "05", step]) for _ in range(RUNS)]
        results[f"check_05_{step}_median_s"] = round(statistics.median(samples), 2)
        results[f"check_05_{step}_max_s"] = round(max(samples), 2)
    pids = [s.pid for s in ws.runtime.status() if s.pid]
    results["cluster_rss_mib"] = {n: round(rss_mib(p)) for n, p in zip(LAB_NODES, pids, strict=True)}
    results["cluster_rss_total_mib"] = round(sum(rss_mib(p) for p in pids))
    ws.runtime.down(purge=True)
    print(json.dumps(results, indent=2))
    (Path(__file__).parent / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
