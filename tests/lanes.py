"""`make test-lanes`: the lanes of real-cluster tests at the same time, for a machine with cores to spare.

    python tests/lanes.py test-cluster test-classroom test-docker

Each lane is a make target that starts its own clusters on addresses no other lane uses: the lab
cluster on 127.0.57 (JMX 7955+), the classroom's seats inside their network namespaces, the docker
runtime's nodes on 127.0.56 (JMX 7156+). Alone, a lane keeps about one core busy: it spends much of
its time waiting on its nodes (gossip, a drain, a stop's quiesce). `make test` (CI) runs the cluster
and docker lanes this way, then the classroom's alone: on two cores, all three at once failed the
classroom's timing tests (a seat's check timed during a neighbour seat's attack).

Every line a lane prints comes out at once, prefixed with its name; a failed lane does not stop the
others, so one run reports every failure. At the end a table gives each lane's result and time;
the exit status is 1 when any lane failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass


@dataclass
class Lane:
    target: str
    returncode: int | None = None
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.target.removeprefix("test-")

    @property
    def verdict(self) -> str:
        return "passed" if self.returncode == 0 else f"FAILED (exit {self.returncode})"


def _run(lane: Lane, width: int, make: str, out_lock: threading.Lock) -> None:
    """Run one lane's make target; its lines start in column `width` + 3, after "[name]"."""
    began = time.monotonic()
    prefix = f"[{lane.name}]".ljust(width + 3)
    proc = subprocess.Popen([make, "--no-print-directory", lane.target], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            errors="replace", bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        with out_lock:
            sys.stdout.write(prefix + line if line.endswith("\n") else prefix + line + "\n")
            sys.stdout.flush()
    lane.returncode = proc.wait()
    lane.seconds = time.monotonic() - began
    with out_lock:
        print(f"{prefix}lane {lane.verdict} in {lane.seconds:.0f}s", flush=True)


def main(argv: list[str]) -> int:
    if not argv or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    make = os.environ.get("MAKE", "make")
    lanes = [Lane(target) for target in argv]
    width = max(len(lane.name) for lane in lanes)  # every line's text starts in one column
    out_lock = threading.Lock()
    began = time.monotonic()
    threads = [threading.Thread(target=_run, args=(lane, width, make, out_lock), daemon=True) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\nlanes, {time.monotonic() - began:.0f}s in all:")
    for lane in lanes:
        print(f"  {lane.name:<{width}} {lane.verdict:<18} {lane.seconds:6.0f}s")
    return 0 if all(lane.returncode == 0 for lane in lanes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
