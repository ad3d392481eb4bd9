"""One lab node's start, as the runtime launches it, with C1 only (the default) and with C2 as well.

    .venv/bin/python benchmarks/node_start.py     # writes benchmarks/node-start-results.json

A cluster is brought up in its own DSELAB_HOME (build/node-start-bench-home, 127.0.66.x, JMX
11155+; from the template when there is one) and stopped; then dse-seed alone is started from its
exact command line (LocalRuntime.server_argv) and stopped again, BENCH_RUNS times per variant,
the variants alternating so that both see the same machine. Each run records the wall time until
the node logs "Startup complete" and the CPU seconds the JVM used by then. `c2` is the same command
without -XX:TieredStopAtLevel=1. Reported, not asserted: the machine is shared and noisy (the load
average is recorded with each run). The cluster is purged at the end with BENCH_PURGE=1.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DSELAB_HOME", str(REPO / "build" / "node-start-bench-home"))
os.environ.setdefault("DSELAB_LOOPBACK", "127.0.66")
os.environ.setdefault("DSELAB_JMX_BASE", "11155")
os.environ["DSELAB_RUNTIME"] = "local"

from dselab import service  # noqa: E402
from dselab.runtime.base import SEED  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
C1_ONLY = "-XX:TieredStopAtLevel=1"
READY = b"Startup complete"
TIMEOUT_S = 300


def dselab(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "dselab", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"`dselab {' '.join(args)}` failed: {(proc.stderr or proc.stdout).strip()[-300:]}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def one_start(argv: list[str], root: Path, log: Path) -> dict[str, float]:
    mark = log.stat().st_size if log.exists() else 0
    t0 = time.monotonic()
    with (root / "logs" / "output.log").open("ab") as out:
        proc = subprocess.Popen(argv, cwd=root, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        while True:
            time.sleep(0.2)
            with log.open("rb") as fh:
                fh.seek(mark)
                if READY in fh.read():
                    break
            if proc.poll() is not None:
                raise SystemExit(f"the node exited ({proc.returncode}): see {root / 'logs'}")
            if time.monotonic() - t0 > TIMEOUT_S:
                raise SystemExit(f"no {READY.decode()!r} within {TIMEOUT_S} s")
        return {"wall_s": round(time.monotonic() - t0, 1), "cpu_s": round(cpu_seconds(proc.pid), 1),
                "load": round(os.getloadavg()[0], 1)}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)


def main() -> None:
    print("bringing the bench cluster up, then stopping it", flush=True)
    dselab("up")
    dselab("down")
    ws = service.open_workspace("local")
    runtime = ws.runtime
    spec = runtime.spec(SEED)  # type: ignore[attr-defined]
    c1 = runtime.server_argv(spec)  # type: ignore[attr-defined]
    variants = {"c1": c1, "c2": [arg for arg in c1 if arg != C1_ONLY]}
    assert C1_ONLY in c1, "the runtime no longer starts nodes with C1 only"
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for i in range(RUNS):
        for name, argv in variants.items():
            runs[name].append(one_start(argv, spec.root, spec.log_dir / "system.log"))
            print(f"{name} {i + 1}/{RUNS}: {runs[name][-1]}", flush=True)
    summary = {name: {"wall_median_s": statistics.median(r["wall_s"] for r in rows),
                      "cpu_median_s": statistics.median(r["cpu_s"] for r in rows), "runs": rows}
               for name, rows in runs.items()}
    result = {"command": f"BENCH_RUNS={RUNS} .venv/bin/python benchmarks/node_start.py", "node": SEED,
              "cores": os.cpu_count(), "variants": summary,
              "note": "one node alone; three start at once in `dselab up`, where CPU is what they share"}
    out = REPO / "benchmarks" / "node-start-results.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for name, s in summary.items():
        print(f"{name}: wall {s['wall_median_s']} s, cpu {s['cpu_median_s']} s (median of {RUNS})")
    if os.environ.get("BENCH_PURGE") == "1":
        dselab("down", "--purge")


if __name__ == "__main__":
    main()
