"""The grader: what the server runs, as root, inside a seat's namespace, for that seat.

    python -I -m dselab.classroom.grader baseline|check|grade|answer|status ARGS...

Its environment (set by `checks.grader_argv`) points DSELAB_HOME at the seat's clusters and
DSELAB_STATE_DIR at the server's store for the seat, so every attempt it records lands where the
seat cannot write; DSELAB_TOOLS_CONF keeps its nodetool JVMs off files the seat can write.
It prints one JSON value on stdout; a DselabError becomes {"error": ...} and exit 2.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from dselab import grading, service
from dselab.errors import DselabError, UsageError
from dselab.lab import get_lab


def run(op: str, args: list[str]) -> Any:
    ws = service.open_workspace("local")
    try:
        if op == "baseline" and len(args) == 1:
            lab = get_lab(args[0])
            service.record_baseline(ws, lab)
            return {"lab": lab.id, "baseline": service.baseline(ws, lab)}
        if op == "check" and args:
            return [r.to_dict(with_evidence=True) for r in service.check(ws, args[0], args[1:], "classroom")]
        if op == "grade" and len(args) == 2:
            return grading.grade(ws, args[0], args[1], source="classroom").to_dict()
        if op == "answer" and len(args) == 3:
            lab = get_lab(args[0])
            step = service.record_answer(ws, lab, lab.step(args[1]), args[2])
            return {"step": step.id, "number": step.number}
        if op == "status" and not args:
            return [asdict(row) for row in ws.runtime.status()]
        raise UsageError(f"grader: unknown operation {' '.join([op, *args])!r}")
    finally:
        ws.close()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        out = run(argv[0] if argv else "", argv[1:])
    except DselabError as err:
        print(json.dumps({"error": err.one_line()}))
        return 2
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
