"""Every step's check of lab 05, passing, as a student's command and in process (issue 17: "every
check p50 0.3 s or less").

    .venv/bin/python benchmarks/every_check.py    # ~2 min; writes benchmarks/every-check-results.json

A fresh lab cluster (from the template when there is one), then step by step as `dselab test` walks
the lab: the step's reference solution, then its check timed BENCH_RUNS times (default 7, after one
round not counted) each way: `dselab check 05 <n>` as a fresh process from the lab folder (what a
student types), and service.check in this process (what the web lab's Check button and the classroom
server run). Each check is timed right after its own solution, so it takes its full passing path
(a later step may undo an earlier one: step 4 clears step 1's snapshot). A check that does not pass
stops the run.
Warm nodetool servers on (the default). Uses its own DSELAB_HOME, loopback range and JMX ports
unless set; the cluster and the restore cluster are purged first and last.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DSELAB_HOME", str(Path(__file__).resolve().parents[1] / "build" / "bench-home"))
os.environ.setdefault("DSELAB_LOOPBACK", "127.0.58")
os.environ.setdefault("DSELAB_JMX_BASE", "8555")
os.environ["DSELAB_RUNTIME"] = "local"

from bench_stats import percentiles, timed_command  # noqa: E402

from dselab import service  # noqa: E402
from dselab.catalogue import get_lab  # noqa: E402
from dselab.lab_folder import working_folder  # noqa: E402
from dselab.progress import Console  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
OUT = Path(__file__).parent / "every-check-results.json"


def main() -> None:
    load_at_start = [round(x, 1) for x in os.getloadavg()]
    ws = service.open_workspace("local", progress=Console())
    service.remove_clusters(ws)
    lab = get_lab("05")
    try:
        service.start_lab(ws, lab, Console())
        env = service.student_env(service.student_settings(ws))
        folder = working_folder()
        steps: dict[str, dict[str, object]] = {}
        for step in lab.steps:
            service.solve(ws, lab, [step.id])
            print(f"timing step {step.number} ({step.id}): x{RUNS} each way", file=sys.stderr)
            cli, in_process = [], []
            for _ in range(RUNS + 1):  # the first round of each step is not counted (it warms its reads up)
                cli.append(timed_command([sys.executable, "-m", "dselab", "check", "05", str(step.number)],
                                         env, folder))
                t0 = time.monotonic()
                (result,) = service.check(ws, lab, [step.id])
                in_process.append(time.monotonic() - t0)
                if not result.passed:
                    raise SystemExit(f"benchmark: step {step.number} did not pass in process: {result.message}")
            steps[f"{step.number}_{step.id}"] = {"cli": percentiles(cli[1:]), "in_process": percentiles(in_process[1:])}
    finally:
        service.remove_clusters(ws)
        ws.close()
    worst = {way: max(s[way]["p50_s"] for s in steps.values()) for way in ("cli", "in_process")}  # type: ignore[index]
    results = {
        "command": f"BENCH_RUNS={RUNS} .venv/bin/python benchmarks/every_check.py",
        "runs": RUNS, "cpus": os.cpu_count(), "load_average_at_start": load_at_start,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "note": "each step's check right after its reference solution (passing); cli = `dselab check 05 <n>` as a "
                "fresh process from the lab folder, in_process = service.check (the Check button); warm nodetool on",
        "largest_p50_s": worst,
        "steps": steps,
    }
    print(json.dumps(results, indent=2))
    OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
