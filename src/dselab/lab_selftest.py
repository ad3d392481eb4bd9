"""The lab self-test CI runs (`dselab test`): fresh cluster, then per step: check FAILS, solve, check PASSES.

A check that passes before its solve is a broken lab (it would pass a student who did nothing);
one that fails after its solve is a broken solution or check. The run goes on past problems and
ends with one summary, then tears the cluster down (unless asked to keep it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dselab import service
from dselab.check_engine import CheckResult
from dselab.errors import DselabError
from dselab.lab import Lab, Step
from dselab.progress import Progress, Silent


@dataclass
class StepOutcome:
    number: int
    step: str
    before: CheckResult | None = None
    after: CheckResult | None = None
    solve_error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (self.solve_error is None and self.before is not None and not self.before.passed
                and self.after is not None and self.after.passed)

    def problem(self) -> str:
        if self.before is not None and self.before.passed:
            return "check passed BEFORE its solve (the check is too weak)"
        if self.solve_error:
            return f"solve failed: {self.solve_error}"
        if self.after is not None and not self.after.passed:
            return f"check failed after solve: {self.after.message}"
        return ""


@dataclass
class SelftestReport:
    lab: Lab
    outcomes: list[StepOutcome] = field(default_factory=list)
    verification: CheckResult | None = None  # the lab's end-of-lab check, when it has one
    setup_seconds: float = 0.0
    total_seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        verified = self.verification is None or self.verification.passed
        return (self.error is None and verified and all(o.ok for o in self.outcomes)
                and len(self.outcomes) == len(self.lab.steps))

    def lines(self) -> list[str]:
        out = [f"lab {self.lab.number} ({self.lab.title}): setup {self.setup_seconds:.0f}s"]
        for o in self.outcomes:
            mark = "ok  " if o.ok else "FAIL"
            detail = "fails before solve, passes after" if o.ok else o.problem()
            out.append(f"  {mark} step {o.number:>2} {o.step:<18} {detail} ({o.seconds:.1f}s)")
        if self.verification is not None:
            mark = "ok  " if self.verification.passed else "FAIL"
            out.append(f"  {mark} end of lab: {self.verification.message}")
        if self.error:
            out.append(f"  ERROR {self.error}")
        passed = sum(o.ok for o in self.outcomes)
        out.append(f"{passed} passed, {len(self.lab.steps) - passed} failed "
                   f"(lab {self.lab.number}, {self.total_seconds:.0f}s)")
        return out


def run_selftest(ws: service.Workspace, lab: Lab, progress: Progress | None = None,
                 keep: bool = False, fresh: bool = True) -> SelftestReport:
    progress = progress or Silent()
    service.require_runtime(ws, lab)  # before any cluster is removed
    report = SelftestReport(lab)
    started = time.monotonic()
    restore = ws.runtime.for_cluster("restore", progress)
    try:
        if fresh:
            progress.step("removing any previous lab cluster for a fresh start")
            service.remove_clusters(ws, progress)
        if lab.id != "01-environment":
            service.start_lab(ws, lab, progress)
        report.setup_seconds = time.monotonic() - started
        for step in lab.steps:
            report.outcomes.append(_one_step(ws, lab, step, progress))
        report.verification = _end_of_lab(ws, lab, progress)
    except DselabError as err:
        report.error = err.one_line()
    finally:
        if not keep:
            progress.step("tearing the clusters down")
            restore.down(purge=True)
            ws.runtime.down(purge=True)
        report.total_seconds = time.monotonic() - started
    return report


def _one_step(ws: service.Workspace, lab: Lab, step: Step, progress: Progress) -> StepOutcome:
    t0 = time.monotonic()
    outcome = StepOutcome(step.number, step.id)
    progress.step(f"step {step.number} ({step.id}): check must fail")
    outcome.before = service.check_one(ws, lab, step, source="protocol")
    try:
        service.solve(ws, lab, [step.id], progress)
    except DselabError as err:
        outcome.solve_error = err.one_line()
    outcome.after = service.check_one(ws, lab, step, source="protocol")
    outcome.seconds = time.monotonic() - t0
    progress.done(f"step {step.number} ({step.id}): {'ok' if outcome.ok else outcome.problem()}")
    return outcome


def _end_of_lab(ws: service.Workspace, lab: Lab, progress: Progress) -> CheckResult | None:
    progress.step("end-of-lab verification")
    result = service.check_end_of_lab(ws, lab)
    if result is not None:
        progress.done(f"end of lab: {result.message}")
    return result
