"""Cold (a JVM per nodetool call) against warm (the cluster's nodetool server), side by side.

    .venv/bin/python benchmarks/warm_nodetool.py      # a table, and benchmarks/warm-nodetool-results.json
    BENCH_CHECKS=0 .venv/bin/python benchmarks/warm_nodetool.py   # the scripts only: ...-scripts-results.json

Times, as a student runs them (fresh processes from a lab folder): `./scripts/nodetool.sh
listsnapshots` with each client (DSELAB_NODETOOL=native, the nodes' own; =3.11, the DSE 5.1
generation's, lab 05's default, which has a warm server of its own), and `dselab check 05 <n>` for
the snapshot, incremental and cleanup steps, each solved first so that its check takes its full
passing path; the same checks in this process too (`..._in_process_warm`: service.check, as the
web lab and the classroom server call it). Cold runs with DSELAB_WARM_NODETOOL=0, warm with the
servers started and answering; runs alternate cold and warm so both see the same machine.
Reported, not asserted: on a small shared machine the figures are noisy (the load average is
recorded with them). Uses its own
DSELAB_HOME, loopback range and JMX ports unless set; BENCH_RUNS sets the runs per figure (default
7); BENCH_CHECKS=0 times the scripts only. Lab 05 is started (and the cluster with it if it is not
running); the cluster is purged at the end with BENCH_PURGE=1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("DSELAB_HOME", str(Path(__file__).resolve().parents[1] / "build" / "bench-home"))
os.environ.setdefault("DSELAB_LOOPBACK", "127.0.58")
os.environ.setdefault("DSELAB_JMX_BASE", "8555")
os.environ["DSELAB_RUNTIME"] = "local"

from bench_stats import percentiles, timed_command  # noqa: E402

from dselab import service  # noqa: E402
from dselab.catalogue import get_lab  # noqa: E402
from dselab.lab_folder import working_folder  # noqa: E402
from dselab.nodetool_choice import LEGACY, NATIVE  # noqa: E402
from dselab.progress import Console  # noqa: E402
from dselab.runtime import nodetool_server  # noqa: E402
from dselab.settings import Settings  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
TIMED = {"snapshot": ["snapshot"], "incremental": ["list", "incremental"], "cleanup": ["clear", "cleanup"]}
OUT = Path(__file__).parent / "warm-nodetool-results.json"
SCRIPTS_OUT = Path(__file__).parent / "warm-nodetool-scripts-results.json"  # BENCH_CHECKS=0


def main() -> None:
    load_at_start = [round(x, 1) for x in os.getloadavg()]
    ws = service.open_workspace("local", progress=Console())
    service.start_lab(ws, "05", progress=Console())  # starts the cluster if it is not running
    base = service.student_settings(ws)
    folder = working_folder()
    for client in (None, LEGACY):
        where = ws.runtime.warm_nodetool_place(client)  # type: ignore[attr-defined]
        launch = ws.runtime.warm_nodetool_launch(ws.runtime.spec("dse-seed"), client)  # type: ignore[attr-defined]
        if not nodetool_server.wait_ready(where, 180, launch):
            raise SystemExit(f"benchmark: the warm nodetool server did not start (see {where.log})")

    samples: dict[str, list[float]] = {}

    def both(name: str, argv: list[str], settings: Settings = base) -> None:
        envs = {mode: service.student_env(replace(settings, warm_nodetool=mode == "warm")) for mode in ("cold", "warm")}
        for mode in ("cold", "warm") * RUNS:
            samples.setdefault(f"{name}_{mode}", []).append(timed_command(argv, envs[mode], folder))

    for client, name in ((NATIVE, "nodetool_sh_listsnapshots"), (LEGACY, "nodetool_sh_3_11_listsnapshots")):
        print(f"timing ./scripts/nodetool.sh listsnapshots ({client}) x{RUNS} each way", file=sys.stderr)
        both(name, ["./scripts/nodetool.sh", "listsnapshots"], replace(base, nodetool=client))
    load_after_scripts = [round(x, 1) for x in os.getloadavg()]
    lab = get_lab("05")
    for step_id, solve_first in (TIMED if os.environ.get("BENCH_CHECKS") != "0" else {}).items():
        service.solve(ws, "05", solve_first)
        number = str(lab.step(step_id).number)
        print(f"timing dselab check 05 {number} ({step_id}) x{RUNS} each way", file=sys.stderr)
        both(f"check_05_{number}_{step_id}", [sys.executable, "-m", "dselab", "check", "05", number])
        for _ in range(RUNS):  # as the web lab and the classroom server run it: no process start
            t0 = time.monotonic()
            (result,) = service.check(ws, "05", [step_id])
            samples.setdefault(f"check_05_{number}_{step_id}_in_process_warm", []).append(time.monotonic() - t0)
            if not result.passed:
                raise SystemExit(f"benchmark: check 05 {number} failed in process: {result.message}")

    results: dict[str, object] = {
        "command": f"BENCH_RUNS={RUNS} BENCH_CHECKS={os.environ.get('BENCH_CHECKS', '1')} "
                   ".venv/bin/python benchmarks/warm_nodetool.py",
        "runs_each_way": RUNS, "cpus": os.cpu_count(), "load_average_at_start": load_at_start,
        "load_average_after_scripts": load_after_scripts,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "note": "cold = DSELAB_WARM_NODETOOL=0 (a JVM per nodetool call); warm = the cluster's nodetool server "
                "(nodetool_sh_3_11_*: the 3.11 client, DSELAB_NODETOOL=3.11, and its own server); "
                "wall time of a fresh process each, cold and warm alternating; a shared 2-core machine: noisy",
    }
    results.update({name: percentiles(values) for name, values in samples.items()})
    if os.environ.get("BENCH_PURGE") == "1":
        ws.runtime.down(purge=True)
    ws.close()
    print(json.dumps(results, indent=2))
    (SCRIPTS_OUT if os.environ.get("BENCH_CHECKS") == "0" else OUT).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
