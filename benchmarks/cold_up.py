"""Time a cold `dselab up` with data, phase by phase, with each fast-start measure on or off.

    .venv/bin/python benchmarks/cold_up.py                    # every variant, 2 runs each
    .venv/bin/python benchmarks/cold_up.py fast before -n 3   # chosen variants, 3 runs each

A variant turns one measure off (or all of them: "before"), so each is measured on its own. Every
run purges the cluster, brings it up as `dselab up` does (cluster.bring_up, in-process) and
records: the phases (seed + dse-node-1 up, ring seen, data load, dse-node-2 bootstrap,
fingerprint) and, from each node's system.log, when it answered gossip, listened for CQL and
(dse-node-2) how long it slept for its pending ranges. Medians per variant are printed and written
to benchmarks/cold-up-results.json. Runs in its own DSELAB_HOME, loopback range and JMX ports
unless those are set. Figures are reported, not asserted: on a shared 2-core machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("DSELAB_HOME", str(Path(__file__).resolve().parents[1] / "build" / "bench-cold-home"))
os.environ.setdefault("DSELAB_LOOPBACK", "127.0.59")
os.environ.setdefault("DSELAB_JMX_BASE", "8655")
os.environ["DSELAB_RUNTIME"] = "local"

from dselab import cluster, environment, service  # noqa: E402
from dselab.runtime import local, local_config  # noqa: E402
from dselab.runtime.base import LAB_NODES  # noqa: E402

RESULTS = Path(__file__).parent / "cold-up-results.json"
LOG_TIME = re.compile(r"^\w+\s+\[[^\]]*\] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
NODE_EVENTS = {  # name -> system.log text
    "gossip_s": "Starting up server gossip",
    "cql_s": "Starting listening for CQL clients",
}


@contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def sequential_up_nodes(self: local.LocalRuntime, nodes: list[str]) -> None:
    """up_nodes as it was: each node started once the one before listens for CQL."""
    for node in nodes:
        self.start_node(node)


def row_by_row_load(runtime: Any, start: int = 0, count: int = environment.CUSTOMERS) -> int:
    """The load as it was: one request per row."""
    return (environment.insert_rows(runtime, "customers", environment.customer_rows(start, count))
            + environment.insert_rows(runtime, "orders", environment.order_rows(start, count)))


def serial_flush(runtime: Any, nodes: tuple[str, ...] = ("dse-seed", "dse-node-1")) -> None:
    for node in nodes:
        runtime.nodetool(node, ["flush", environment.KEYSPACE])


# variant -> the patches that turn its measure off
OFF: dict[str, list[tuple[Any, str, Any]]] = {
    "no_initial_tokens": [(local_config, "initial_token_yaml", lambda spec: "")],
    "sequential_start": [(local.LocalRuntime, "up_nodes", sequential_up_nodes)],
    "poll_1s": [(local, "READY_POLL_S", 1.0)],
    "row_by_row_load": [(environment, "load_rows", row_by_row_load), (environment, "flush", serial_flush)],
}
VARIANTS: dict[str, list[tuple[Any, str, Any]]] = {
    "fast": [],
    **OFF,
    "ring_delay_1000": [(local_config, "RING_DELAY_MS", 1000)],
    "before": [p for patches in OFF.values() for p in patches],
}


class Phases:
    """Wall time of each phase of bring_up, by wrapping the functions it calls."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def wrap(self, label: Callable[..., str | None], fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                name = label(*args, **kwargs)
                if name:
                    self.times[name] = round(self.times.get(name, 0) + time.monotonic() - t0, 2)
        return timed


def node_events(ws: service.Workspace) -> dict[str, dict[str, float]]:
    """Per node, seconds from its first log line to gossip and to CQL; dse-node-2's ring sleep."""
    out: dict[str, dict[str, float]] = {}
    for node in LAB_NODES:
        text = ws.runtime.log_since(node, 0, debug=False)
        stamps = [(m.group(1), line) for line in text.splitlines() if (m := LOG_TIME.match(line))]
        if not stamps:
            continue
        first = _when(stamps[0][0])
        events = {name: round(_when(t) - first, 1) for name, needle in NODE_EVENTS.items()
                  for t, line in stamps if needle in line}
        sleeps = [line for _, line in stamps if "sleeping" in line and "pending range" in line]
        if sleeps:
            events["pending_range_sleep_ms"] = float(re.findall(r"sleeping (\d+) ms", sleeps[0])[0])
        out[node] = events
    return out


def node_cpu_seconds(ws: service.Workspace) -> float:
    """CPU seconds the three nodes used up to now: less noisy than wall time on a shared machine."""
    procs = [ws.runtime.process(node) for node in LAB_NODES]  # type: ignore[attr-defined]
    return round(sum(sum(p.cpu_times()[:2]) for p in procs if p is not None), 1)


def _when(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def one_run(variant: str) -> dict[str, Any]:
    ws = service.open_workspace("local")
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    phases = Phases()
    rt_cls = local.LocalRuntime
    with ExitStack() as stack:
        for obj, name, value in VARIANTS[variant]:
            stack.enter_context(patched(obj, name, value))
        stack.enter_context(patched(rt_cls, "up_nodes", phases.wrap(lambda self, nodes: "nodes_up_s", rt_cls.up_nodes)))
        stack.enter_context(patched(rt_cls, "start_node", phases.wrap(
            lambda self, node, checked=False: "node2_bootstrap_s" if node == LAB_NODES[2] else None,
            rt_cls.start_node)))
        for module, fn, phase in ((cluster, "wait_for_ring", "ring_wait_s"), (environment, "load", "data_load_s"),
                                  (environment, "load_rows", "rows_s"), (environment, "fingerprint", "fingerprint_s")):
            stack.enter_context(patched(module, fn, phases.wrap(lambda *a, _p=phase, **k: _p, getattr(module, fn))))
        t0 = time.monotonic()
        record = cluster.bring_up(ws.runtime, ws.store)
        total = round(time.monotonic() - t0, 1)
    cpu = node_cpu_seconds(ws)
    ok = record["fingerprint"] == {t: fp.to_dict() for t, fp in environment.expected_fingerprint().items()}
    result = {"total_s": total, **phases.times, "node_cpu_s": cpu, "fingerprint_ok": ok, "nodes": node_events(ws),
              "load_avg_1m": round(os.getloadavg()[0], 1)}
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    ws.close()
    return result


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, float | int) and not isinstance(v, bool)]
    out: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs if k in r), 2) for k in keys}
    for node in LAB_NODES:
        for event in ("gossip_s", "cql_s"):
            got = [r["nodes"].get(node, {}).get(event) for r in runs]
            if all(g is not None for g in got):
                out[f"{node}_{event}"] = round(statistics.median(g for g in got if g is not None), 1)
    out["fingerprint_ok"] = all(r["fingerprint_ok"] for r in runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"any of {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("-n", "--runs", type=int, default=2)
    args = parser.parse_args()
    args.variants = args.variants or list(VARIANTS)
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for rnd in range(args.runs):  # variants interleaved: a load spike hits them alike
        for variant in args.variants:
            run = one_run(variant)
            print(f"[{rnd + 1}/{args.runs}] {variant}: {json.dumps(run)}", flush=True)
            results.setdefault(variant, {"runs": []})
            if rnd == 0:
                results[variant] = {"runs": []}
            results[variant]["runs"].append(run)
    for variant in args.variants:
        results[variant]["median"] = medians(results[variant]["runs"])
        print(f"{variant:18} {json.dumps(results[variant]['median'])}")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
