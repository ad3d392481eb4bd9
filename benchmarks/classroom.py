"""Classroom figures (issues 10, 17): memory per seat, seats per 24 GiB, a seat's idle CPU, 2 seats
up from cold, reset, median check latency with two seats checking at the same moment.

    sudo .venv/bin/python benchmarks/classroom.py     # ~5 min; writes benchmarks/classroom-results.json

Runs its own classroom (DSELAB_CLASSROOM_ROOT=/var/lib/dselab/classroom-bench), purged first and
at the end. Memory is the resident set (psutil RSS) of each seat's Cassandra JVMs with every lab
node up, then again with the seat's restore node up too (step 10 of lab 05 starts it).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("DSELAB_CLASSROOM_ROOT", "/var/lib/dselab/classroom-bench")

from bench_classroom import classroom, empty_classroom  # noqa: E402

from dselab.classroom import registry  # noqa: E402
from dselab.classroom.capacity import RESERVE_MIB  # noqa: E402
from dselab.classroom.host.seats import HostSeat, node_processes  # noqa: E402
from dselab.classroom.layout import Layout  # noqa: E402
from dselab.classroom.recording import check_seat  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
OUT = Path(__file__).resolve().parent / "classroom-results.json"
GIB = 1024


def timed_check(seat_id: str) -> float:
    started = time.monotonic()
    check_seat(seat_id, "05", ["1"])
    return time.monotonic() - started


def summary(latencies: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(latencies), 2), "min_s": round(min(latencies), 2),
            "max_s": round(max(latencies), 2), "calls": len(latencies)}


def seat_rss_mib(seat: registry.Seat) -> float:
    total = 0
    for proc in node_processes(HostSeat.of(Layout.current(), seat)).values():
        total += proc.memory_info().rss
    return round(total / (1 << 20), 1)


def seat_cpu_cores(seat: registry.Seat, seconds: float = 30.0) -> float:
    """The cores a seat's nodes use while nobody works in it: their CPU time over `seconds`."""
    procs = list(node_processes(HostSeat.of(Layout.current(), seat)).values())

    def used() -> float:
        return sum(sum(p.cpu_times()[:2]) for p in procs)

    before = used()
    time.sleep(seconds)
    return round((used() - before) / seconds, 3)


def main() -> None:
    layout = empty_classroom()
    results: dict[str, object] = {"command": "sudo .venv/bin/python benchmarks/classroom.py", "runs": RUNS,
                                  "cpus": os.cpu_count()}
    up_s, _ = classroom("up", "--seats", "2")
    results["up_2_seats_cold_s"] = round(up_s, 1)
    known = list(registry.load(layout).values())
    first, second = known
    classroom("exec", first.id, "--", "./scripts/nodetool.sh", "snapshot", "training", "-t", "lab_backup")
    latencies: list[float] = []
    for _ in range(RUNS):
        with ThreadPoolExecutor(max_workers=2) as pool:
            latencies += list(pool.map(lambda s: classroom("check", s.id, "05", "1")[0], known))
    results["check_05_1_two_seats_at_once"] = summary(latencies)
    in_process: list[float] = []  # as the browser's Check button calls it: no CLI process of its own
    for _ in range(RUNS):
        with ThreadPoolExecutor(max_workers=2) as pool:
            in_process += list(pool.map(lambda s: timed_check(s.id), known))
    results["check_05_1_two_seats_at_once_in_process"] = summary(in_process)
    time.sleep(20)  # let the nodes settle after start-up work
    lab_only = [seat_rss_mib(s) for s in known]
    results["seat_rss_mib_lab_nodes"] = lab_only
    results["seat_idle_cpu_cores"] = [seat_cpu_cores(s) for s in known]
    classroom("exec", first.id, "--", "./scripts/restore-cluster.sh", "up")
    with_restore = seat_rss_mib(first)
    results["seat_rss_mib_with_restore_node"] = with_restore
    results["seats_per_24_gib"] = int((24 * GIB - RESERVE_MIB) // max(lab_only))
    results["seats_per_24_gib_with_restore_node"] = int((24 * GIB - RESERVE_MIB) // with_restore)
    reset_s, _ = classroom("reset", second.id)
    results["reset_one_seat_s"] = round(reset_s, 1)
    purge_s, _ = classroom("down", "--purge")
    results["down_purge_2_seats_s"] = round(purge_s, 1)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
