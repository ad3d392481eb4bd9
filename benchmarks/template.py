"""The cluster template (issue 17, item 2): a cold `dselab up` that builds the template, against
`dselab up` from the template after `dselab down --purge` (with the class archives, and without:
DSELAB_CLASS_ARCHIVES=0), and a clean `dselab down` then `dselab up` of a cluster that keeps its data;
then, in the same run, the same cold start with data, stop and restart under ccm (ccm_anchor.py;
BENCH_CCM=0 leaves it out), and the ratios.

    .venv/bin/python benchmarks/template.py     # writes benchmarks/template-results.json

Each run is the real command in a fresh Python process, timed from the outside. A cold run starts
with no template (its own DSELAB_TEMPLATE_DIR, emptied first) and pays for the long way plus
keeping the template (drain, stop, copy, start again); a template run starts from `down --purge`
with the template in place. Its own DSELAB_HOME (build/template-bench-home), loopback range and
JMX ports, so a developer's lab is left alone; the cluster is purged at the end. BENCH_COLD_RUNS
and BENCH_TEMPLATE_RUNS set the number of runs (default 2 and 3; the template runs with and
without class archives alternate, and so do the stop and restart runs). Reported, not asserted.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
env = dict(os.environ)
env.setdefault("DSELAB_HOME", str(REPO / "build" / "template-bench-home"))
env.setdefault("DSELAB_LOOPBACK", "127.0.62")
env.setdefault("DSELAB_JMX_BASE", "10555")
env.setdefault("DSELAB_TEMPLATE_DIR", str(REPO / "build" / "template-bench-templates"))
env["DSELAB_RUNTIME"] = "local"
env["DSELAB_TEMPLATE"] = "1"
TEMPLATES = Path(env["DSELAB_TEMPLATE_DIR"])
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "2"))
WITH_CCM = os.environ.get("BENCH_CCM", "1") != "0"
TEMPLATE_RUNS = int(os.environ.get("BENCH_TEMPLATE_RUNS", "3"))


def dselab(*args: str, archives: bool = True) -> float:
    """Wall time of one `dselab` command; its output goes to build/template-bench.log."""
    log = REPO / "build" / "template-bench.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with log.open("a") as out:
        out.write(f"\n$ dselab {' '.join(args)}\n")
        out.flush()
        proc = subprocess.run([sys.executable, "-m", "dselab", *args], stdout=out, stderr=subprocess.STDOUT,
                              env={**env, "DSELAB_CLASS_ARCHIVES": "1" if archives else "0"}, cwd=REPO, check=False)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"`dselab {' '.join(args)}` failed (exit {proc.returncode}): see {log}")
    return elapsed


def spread(samples: list[float]) -> dict[str, object]:
    return {"median_s": round(statistics.median(samples), 1), "runs_s": [round(s, 1) for s in samples]}


def ccm_ratios(anchor: dict[str, Any], cold: list[float], warm: list[float], stops: list[float],
               restarts: list[float]) -> dict[str, float]:
    """How many times longer ccm took than dselab, phase by phase (medians)."""
    def ratio(theirs: float, ours: list[float]) -> float:
        return round(theirs / statistics.median(ours), 2)

    return {"cold_up_with_data_vs_dselab_cold": ratio(anchor["cold_up_with_data_s"], cold),
            "cold_up_with_data_vs_dselab_from_template": ratio(anchor["cold_up_with_data_s"], warm),
            "stop": ratio(statistics.median(anchor["stop_s"]), stops),
            "restart_data_kept": ratio(statistics.median(anchor["restart_data_kept_s"]), restarts)}


def main() -> None:
    cold: list[float] = []
    warm: list[float] = []
    for i in range(COLD_RUNS):
        dselab("down", "--purge")
        shutil.rmtree(TEMPLATES, ignore_errors=True)
        cold.append(dselab("up"))
        print(f"cold up (template built) {i + 1}/{COLD_RUNS}: {cold[-1]:.1f}s", flush=True)
    bare: list[float] = []
    for i in range(TEMPLATE_RUNS):
        for archives, samples in ((True, warm), (False, bare)):
            dselab("down", "--purge")
            samples.append(dselab("up", archives=archives))
            print(f"up from the template, class archives {'on' if archives else 'off'} "
                  f"{i + 1}/{TEMPLATE_RUNS}: {samples[-1]:.1f}s", flush=True)
    stops, restarts = [], []
    for i in range(TEMPLATE_RUNS):
        stops.append(dselab("down"))
        restarts.append(dselab("up"))
        print(f"stop {stops[-1]:.1f}s, restart with data kept {restarts[-1]:.1f}s ({i + 1}/{TEMPLATE_RUNS})",
              flush=True)
    dselab("down", "--purge")
    anchor = None
    if WITH_CCM:
        import ccm_anchor

        anchor = ccm_anchor.run(restarts=TEMPLATE_RUNS)
        print(f"ccm: cold up with data {anchor['cold_up_with_data_s']}s, stops {anchor['stop_s']}, "
              f"restarts {anchor['restart_data_kept_s']}", flush=True)
    load = os.getloadavg()
    results = {
        "command": f"BENCH_COLD_RUNS={COLD_RUNS} BENCH_TEMPLATE_RUNS={TEMPLATE_RUNS} "
                   ".venv/bin/python benchmarks/template.py",
        "cold_up_template_built": spread(cold),
        "up_from_template_after_purge": spread(warm),
        "up_from_template_without_class_archives": spread(bare),
        "stop_data_kept": spread(stops),
        "restart_data_kept": spread(restarts),
        "ratio": round(statistics.median(cold) / statistics.median(warm), 1),
        **({"ccm": anchor, "ccm_over_dselab": ccm_ratios(anchor, cold, warm, stops, restarts)} if anchor else {}),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": [round(x, 1) for x in load]},
        "note": "wall time of the real command in a fresh process; a shared 2-core machine is noisy. "
                "ccm drives the same jars through a launcher written here with Cassandra's stock JVM "
                "settings (its binary tarball is not served here): see ccm_anchor.py",
    }
    out = REPO / "benchmarks" / "template-results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
