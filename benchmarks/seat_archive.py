"""A seat's Check, a student's nodetool and a seat reset with and without the class archives root
makes for the seats (issue 17), side by side in one run on one seat.

    sudo .venv/bin/python benchmarks/seat_archive.py    # ~5 min; writes benchmarks/seat-archive-results.json

Root makes nodetool's and a node's archive in the seats' toolchain at `classroom up`
(classroom.host.toolchain); a seat and its observer may only map them. "without" moves one aside
(the JVMs then load every class one by one, as before, and cannot write one), "with" puts it back;
the two alternate, so that both see the same machine. Timed:
- Check of step 1 (snapshot) and of all 11 steps at once, in process, as the page's button runs it,
  and `./scripts/nodetool.sh listsnapshots` typed in the seat's shell (`classroom exec`'s command
  line): BENCH_REPEAT times each (default 6), with and without nodetool's archive;
- `classroom reset` (three nodes started from the template, lab 05 started afresh): BENCH_RESETS
  times each (default 2), with and without the node archive.
Runs its own classroom (DSELAB_CLASSROOM_ROOT=/var/lib/dselab/classroom-archive), purged first and last.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("DSELAB_CLASSROOM_ROOT", "/var/lib/dselab/classroom-archive")

from bench_classroom import classroom, empty_classroom  # noqa: E402
from bench_stats import percentiles  # noqa: E402

from dselab.catalogue import get_lab  # noqa: E402
from dselab.classroom import registry  # noqa: E402
from dselab.classroom.backends import open_backend  # noqa: E402
from dselab.classroom.recording import check_seat  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "6"))
RESETS = int(os.environ.get("BENCH_RESETS", "2"))
OUT = Path(__file__).resolve().parent / "seat-archive-results.json"
STEP1 = "./scripts/nodetool.sh snapshot training -t lab_backup"


def timed(action) -> float:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    action()
    return time.monotonic() - began


def only(folder: Path, entry: str) -> Path:
    found = list(folder.glob(f"{entry}-*.jsa"))
    if len(found) != 1:
        raise SystemExit(f"benchmark: expected one {entry} archive in {folder}, found {found}")
    return found[0]


@contextlib.contextmanager
def moved_aside(archive: Path, aside: bool) -> Iterator[None]:
    """The archive renamed away for the block when `aside` (no JVM finds it), then put back."""
    away = archive.with_suffix(".aside")
    if aside:
        archive.rename(away)
    try:
        yield
    finally:
        if away.exists():
            away.rename(archive)


def main() -> None:
    layout = empty_classroom()
    results: dict[str, object] = {"command": "sudo .venv/bin/python benchmarks/seat_archive.py",
                                  "cpus": os.cpu_count(), "repeat": REPEAT, "resets": RESETS}
    try:
        results["up_1_seat_s"] = round(classroom("up", "--seats", "1")[0], 1)
        seat = next(iter(registry.load(layout).values()))
        backend = open_backend()
        archive, node_archive = (only(layout.toolchain / "cache" / "class-archives", name)
                                 for name in ("NodeTool", "CassandraDaemon"))

        def shell(line: str) -> None:
            spec = backend.shell(seat, ["bash", "-c", line])
            proc = subprocess.run(list(spec.argv), cwd=spec.cwd, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=300)
            if proc.returncode != 0:
                raise SystemExit(f"benchmark: `{line}` failed: {proc.stderr[-400:]}")

        shell(STEP1)
        every_step = [s.id for s in get_lab("05").steps]
        samples: dict[str, dict[str, list[float]]] = {
            mode: {"check_step_1": [], "check_all_11_steps": [], "student_listsnapshots": []}
            for mode in ("with_archive", "without_archive")}
        for _ in range(REPEAT):
            for mode, seen in samples.items():
                with moved_aside(archive, mode == "without_archive"):
                    seen["check_step_1"].append(timed(lambda: check_seat(seat.id, "05", ["1"], backend)))
                    seen["check_all_11_steps"].append(timed(lambda: check_seat(seat.id, "05", every_step, backend)))
                    seen["student_listsnapshots"].append(timed(lambda: shell("./scripts/nodetool.sh listsnapshots")))
        for _ in range(RESETS):
            for mode, seen in samples.items():
                with moved_aside(node_archive, mode == "without_archive"):
                    seen.setdefault("reset", []).append(timed(lambda: classroom("reset", seat.id)))
        results.update({mode: {name: percentiles(values) for name, values in seen.items()}
                        for mode, seen in samples.items()})
    finally:
        classroom("down", "--purge")
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
