"""The server's side of checking a seat: run the grader in the seat's namespace, as root, with
the server's store; bring in the answers the student gave from the seat's shell.

`check_seat` is what the instructor's `classroom check` and the browser's Check button call.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from dselab import service
from dselab.checking import CheckResult
from dselab.classroom import namespaces, registry, users
from dselab.classroom.confine import check_seat_paths, read_seat_store
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.seats import SEAT_JMX_BASE, SEAT_LOOPBACK
from dselab.classroom.toolchain import Toolchain, current
from dselab.errors import EnvironmentProblem
from dselab.lab import Lab, get_lab
from dselab.runtime.local_config import TOOLS_LOGBACK_XML

GRADER_TIMEOUT_S = 900


def grader_env(layout: Layout, seat: Seat, toolchain: Toolchain) -> dict[str, str]:
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", "DSELAB_RUNTIME": "local",
        "DSELAB_HOME": str(seat.cluster_home), "DSELAB_STATE_DIR": str(seat.store_dir),
        "DSELAB_CACHE": str(toolchain.cache), "DSELAB_TOOLS_CONF": str(layout.tools_conf),
        "DSELAB_LOOPBACK": SEAT_LOOPBACK, "DSELAB_JMX_BASE": SEAT_JMX_BASE,
    }
    for name in ("JAVA_HOME", "DSELAB_CASSANDRA_VERSION"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if toolchain.cassandra_home:
        env["CASSANDRA_HOME"] = toolchain.cassandra_home
    return env


def write_tools_conf(layout: Layout) -> None:
    layout.tools_conf.mkdir(mode=0o700, parents=True, exist_ok=True)
    (layout.tools_conf / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)


def run_grader(layout: Layout, seat: Seat, args: Sequence[str], timeout: float = GRADER_TIMEOUT_S) -> Any:
    """One grader operation for `seat`; its JSON answer. -I: the seat's files never reach sys.path."""
    if not namespaces.exists(seat.netns):
        raise EnvironmentProblem(f"seat {seat.id} has no namespace (not up)", fix="run `dselab classroom up`")
    check_seat_paths(seat)
    argv = namespaces.inside(seat.netns, [sys.executable, "-I", "-m", "dselab.classroom.grader", *args])
    try:
        proc = subprocess.run(argv, env=grader_env(layout, seat, current(layout)), cwd=layout.server,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(f"seat {seat.id}: the grader did not finish within {timeout:.0f}s") from None
    lines = proc.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        detail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise EnvironmentProblem(f"seat {seat.id}: the grader failed (exit {proc.returncode}): {detail}") from None
    if isinstance(data, dict) and "error" in data:
        raise EnvironmentProblem(f"seat {seat.id}: {data['error']}")
    return data


def import_seat_answers(layout: Layout, seat: Seat, lab: Lab, uid: int | None = None) -> list[str]:
    """Answers given in the seat's shell (`./scripts/answer.sh`) are the student's input by nature:
    copy each new one into the server's store, where the check judges it. Returns the steps taken.
    A value changed in the seat since the last import wins; an answer recorded on the server
    stays until the seat gives a different one."""
    if uid is None:  # the seat user's own file only (tests name another owner)
        entry = users.lookup(seat.user)
        uid = entry.pw_uid if entry else -1
    db = read_seat_store(seat, uid)
    if db is None:
        return []
    try:
        rows = dict(db.execute("SELECT key, value FROM kv WHERE key LIKE ?", (f"lab:{lab.id}:answer:%",)).fetchall())
    except sqlite3.Error:
        return []  # not a store: no answers from it
    finally:
        db.close()
    store = seat.server_store()
    taken = []
    try:
        for step in lab.steps:
            raw = rows.get(f"lab:{lab.id}:answer:{step.id}")
            try:
                value = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                continue
            if not (step.needs_answer and isinstance(value, str) and service.SAFE_VALUE.match(value)):
                continue
            marker = f"lab:{lab.id}:seat-answer:{step.id}"
            if store.get(marker) != value:
                store.put(f"lab:{lab.id}:answer:{step.id}", value)
                store.put(marker, value)
                taken.append(step.id)
    finally:
        store.close()
    return taken


def _result(row: dict[str, Any]) -> CheckResult:
    fields = {k: v for k, v in row.items() if k != "id"}
    return CheckResult(step=row["id"], **fields)


def check_seat(seat_id: str, lab_ref: str, steps: Sequence[str] = (), layout: Layout | None = None) -> list[CheckResult]:
    """Run and record the checks of `steps` (all when empty) for one seat, on the server."""
    layout = layout or Layout.current()
    seat = registry.get(layout, seat_id)
    lab = get_lab(lab_ref)
    lab.select(list(steps))  # unknown steps: one-line error before anything runs
    import_seat_answers(layout, seat, lab)
    return [_result(row) for row in run_grader(layout, seat, ["check", lab.id, *steps])]


def record_answer(seat_id: str, lab_ref: str, step_ref: str, value: str, layout: Layout | None = None) -> dict[str, Any]:
    """An answer given on the server's side (instructor, or the browser's answer box)."""
    layout = layout or Layout.current()
    seat = registry.get(layout, seat_id)
    return run_grader(layout, seat, ["answer", get_lab(lab_ref).id, step_ref, value])


def start_lab(layout: Layout, seat: Seat, lab_ref: str) -> dict[str, Any]:
    """A fresh run of the lab for the seat: baseline in the server's store (attempts cleared)."""
    return run_grader(layout, seat, ["baseline", get_lab(lab_ref).id])


def has_baseline(seat: Seat, lab_ref: str) -> bool:
    store = seat.server_store()
    try:
        return store.get(f"lab:{get_lab(lab_ref).id}:baseline") is not None
    finally:
        store.close()
