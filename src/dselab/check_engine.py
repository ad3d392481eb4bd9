"""The check engine: structured results, the `@check` marker, and a runner that never prints.

A check function takes a `CheckContext` and returns `Verdict`s via `ctx.passed(...)` /
`ctx.failed(...)`. Everything it reads through the context (nodetool output, file listings,
CQL answers) is kept as evidence, so the CLI, the grader and the web page can show what a
verdict rests on, each in its own format (nbgrader's validate / validate_and_print split).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

from dselab.errors import DselabError
from dselab.lab import Lab, Step
from dselab.outcomes import CheckStatus
from dselab.runtime.base import CommandResult, FileEntry, Runtime
from dselab.state import Baseline, StateStore

PASS, FAIL, ERROR = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.ERROR
LOG_TAIL_EVIDENCE_BYTES = 2048  # a timed-out node's log tail kept in the attempt's evidence


@dataclass
class CheckResult:
    lab: str
    step: str
    number: int
    title: str
    status: str  # pass | fail | error
    message: str
    hint: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self, with_evidence: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = data.pop("step")
        if not with_evidence:
            data.pop("evidence")
        return data


class Verdict(Exception):
    """Raised by ctx.failed()/ctx.passed() to end a check early with its outcome."""

    def __init__(self, status: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


@dataclass
class CheckContext:
    runtime: Runtime
    store: StateStore
    lab: Lab
    baseline: Baseline
    evidence: list[dict[str, Any]] = field(default_factory=list)
    restore_runtime: Runtime | None = None
    node: str | None = None  # the node the check last asked something: named if that fails

    # -- evidence-recording reads -------------------------------------------------------------

    def nodetool(self, node: str, *args: str) -> CommandResult:
        self.node = node
        result = self.runtime.nodetool(node, list(args), timeout=120)
        self.evidence.append({"node": node, **result.evidence()})
        return result

    def nodetool_all(self, nodes: Sequence[str], *args: str) -> dict[str, CommandResult]:
        """The same nodetool command on several nodes at once."""
        return dict(zip(nodes, self.nodetool_parallel([(n, args) for n in nodes]), strict=True))

    def nodetool_parallel(self, calls: Sequence[tuple[str, Sequence[str]]]) -> list[CommandResult]:
        """Several nodetool calls at once, results in call order: each is its own JVM, so a check's
        latency is its slowest call, not their sum."""
        with ThreadPoolExecutor(max_workers=len(calls) or 1) as pool:
            futures = [pool.submit(self.runtime.nodetool, node, list(args), 120) for node, args in calls]
            results = []
            for (node, _), future in zip(calls, futures, strict=True):
                self.node = node
                results.append(future.result())
        for (node, _), result in zip(calls, results, strict=True):
            self.evidence.append({"node": node, **result.evidence()})
        return results

    def files(self, node: str, relative: str = "") -> list[FileEntry]:
        self.node = node
        entries = self.runtime.list_files(node, relative)
        self.evidence.append({
            "node": node, "listing": relative or ".",
            "files": [f"{e.path} ({e.size} B, {e.links} links)" for e in entries][:400],
        })
        return entries

    def read_text(self, node: str, relative: str) -> str:
        self.node = node
        text = self.runtime.read_text(node, relative)
        self.evidence.append({"node": node, "read": relative, "content": text[:2000]})
        return text

    def read_bytes(self, node: str, relative: str, limit: int) -> bytes:
        """At most `limit` bytes of a file; the evidence keeps its size, not its (binary) content."""
        self.node = node
        data = self.runtime.read_bytes(node, relative, limit)
        self.evidence.append({"node": node, "read": relative, "bytes": len(data)})
        return data

    def log_since_mark(self, node: str) -> str:
        self.node = node
        mark = int(self.baseline.get("log_marks", {}).get(node, 0))
        text = self.runtime.log_since(node, mark)
        self.evidence.append({"node": node, "log_since_mark": mark, "bytes": len(text)})
        return text

    def note(self, **facts: Any) -> None:
        self.evidence.append(facts)

    def answer(self, step: Step) -> str | None:
        return self.store.answer(self.lab.id, step.id)

    def fact(self, name: str) -> Any:
        """What an earlier check of this lab run kept under `name` (None if nothing)."""
        return self.store.fact(self.lab.id, name)

    def keep_fact(self, name: str, value: Any) -> None:
        """Keep a small JSON value for a later check of this run (in a classroom it crosses from the
        seat's observer to the server, which checks its name and size)."""
        self.store.set_fact(self.lab.id, name, value)

    def passed_in_run(self, step_id: str) -> bool:
        """Whether the step's check passed at least once in this lab run."""
        return step_id in self.store.passed_steps(self.lab.id)

    # -- outcomes -----------------------------------------------------------------------------

    @staticmethod
    def failed(message: str, hint: str = "") -> Verdict:
        return Verdict(FAIL, message, hint)

    @staticmethod
    def passed(message: str) -> Verdict:
        return Verdict(PASS, message)


CheckFn = Callable[[CheckContext], None]
# The (lab id, step id) pairs a function was marked as the check of, kept on the function itself:
# marking registers nothing anywhere; a Catalogue collects the marked functions of each checks module.
CHECK_MARKS = "__dselab_checks__"


def check(lab_id: str, step_id: str) -> Callable[[CheckFn], CheckFn]:
    """Mark `fn` as the check of one step. The function raises ctx.passed/ctx.failed."""

    def mark(fn: CheckFn) -> CheckFn:
        setattr(fn, CHECK_MARKS, (*marks_of(fn), (lab_id, step_id)))
        return fn

    return mark


# The check the lab self-test (lab_selftest.py) runs after a lab's last step (design: "end-of-lab verification").
END_OF_LAB = "end-of-lab"


def end_of_lab(lab_id: str) -> Callable[[CheckFn], CheckFn]:
    """Mark `fn` as the lab's end-of-lab verification (it is no student step)."""
    return check(lab_id, END_OF_LAB)


def marks_of(fn: object) -> tuple[tuple[str, str], ...]:
    """The (lab id, step id) pairs `fn` was marked as the check of (none for any other object)."""
    marks = getattr(fn, CHECK_MARKS, ())
    return tuple(marks) if isinstance(marks, tuple) else ()


def marked_checks(module: ModuleType) -> list[tuple[str, str, CheckFn]]:
    """(lab id, step id, function) for every check defined in `module` (not merely imported into it)."""
    found: list[tuple[str, str, CheckFn]] = []
    for value in vars(module).values():
        if callable(value) and getattr(value, "__module__", None) == module.__name__:
            found.extend((lab_id, step_id, value) for lab_id, step_id in marks_of(value))
    return found


def unexpected_error(err: Exception, step: Step, node: str | None) -> Verdict:
    """An exception no check meant to raise, as an `error` verdict naming the step, the node when
    known, and the exception. It is a fault of the check or the runtime, never the student's."""
    node = getattr(err, "node", None) or node
    where = f" on {node}" if node else ""
    text = " ".join(str(err).split())[:300] or "(no message)"
    return Verdict(ERROR, f"the check of step {step.number} ({step.id}) stopped{where}: "
                          f"{type(err).__name__}: {text}",
                   hint=(f"see the node's log with `dselab logs {node}`; " if node else "")
                   + "if the cluster is fine, this is a bug in dselab: report it with this message")


def run_check(ctx: CheckContext, step: Step, source: str = "cli") -> CheckResult:
    """Run one check; turn every outcome, including errors, into a CheckResult; record it.
    Nothing raised inside a check escapes: a grading run goes on to the next step."""
    ctx.evidence, ctx.node = [], None
    started = time.monotonic()
    try:
        fn = ctx.lab.checks.get(step.id)
        if fn is None:
            raise Verdict(ERROR, f"no check is registered for step {step.id}")
        fn(ctx)
        raise Verdict(ERROR, f"check of step {step.id} ended without a verdict")
    except Verdict as verdict:
        status, message, hint = verdict.status, verdict.message, verdict.hint
    except DselabError as err:
        status, message, hint = ERROR, err.message, err.fix or ""
        tail = str(getattr(err, "log_tail", "") or "")
        if tail:  # a NodeTimeout: the log is the node owner's text, evidence only
            ctx.evidence.append({"node": getattr(err, "node", None) or ctx.node,
                                 "log_tail": tail.encode()[-LOG_TAIL_EVIDENCE_BYTES:].decode("utf-8", "ignore")})
    except Exception as err:  # noqa: BLE001  (the point: any failure becomes a result)
        stopped = unexpected_error(err, step, ctx.node)
        status, message, hint = stopped.status, stopped.message, stopped.hint
        ctx.evidence.append({"node": getattr(err, "node", None) or ctx.node, "exception": type(err).__name__,
                             "traceback": "".join(traceback.format_exception(err))[-4000:]})
    result = CheckResult(
        lab=ctx.lab.id, step=step.id, number=step.number, title=step.title, status=status,
        message=message, hint=hint, evidence=list(ctx.evidence),
        seconds=round(time.monotonic() - started, 3),
    )
    ctx.store.record_attempt(ctx.lab.id, step.id, status, message, result.evidence, source, hint=hint)
    return result


def run_checks(ctx: CheckContext, steps: Sequence[Step], source: str = "cli") -> list[CheckResult]:
    """Every named check, in order, past failures (a grading run needs them all)."""
    return [run_check(ctx, step, source) for step in steps]
