"""Plain functions behind every front end (CLI, web app, grader): start, check, solve, answer.

Nothing here prints; long work reports through a Progress. Errors are DselabErrors.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dselab import cluster, environment, nodetool_choice
from dselab.catalogue import get_lab
from dselab.check_engine import END_OF_LAB, CheckContext, CheckResult, run_check, run_checks
from dselab.command_failure import reason_line
from dselab.errors import EnvironmentProblem, UsageError
from dselab.lab import Lab, Step
from dselab.progress import Progress, Silent
from dselab.runtime.base import CommandResult, Runtime
from dselab.settings import Settings, resolve, variable_names
from dselab.state import Baseline, StateStore
from dselab.templating import render_text, version_vars

SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:, -]{1,64}$")


@dataclass
class Workspace:
    """A runtime with its state store: what every operation needs."""

    runtime: Runtime
    store: StateStore
    runtime_name: str
    settings: Settings | None = None  # what opened it (None: the environment's, when needed)

    def close(self) -> None:
        self.runtime.close()
        self.store.close()


def open_workspace(runtime_name: str | None = None, progress: Progress | None = None,
                   settings: Settings | None = None) -> Workspace:
    from dselab.runtime.factory import make_runtime

    settings = resolve(settings)
    name = runtime_name or settings.runtime
    runtime = make_runtime(name, progress=progress, settings=settings)  # checks the name
    if runtime.name != settings.runtime:  # a runtime named here: what the student's commands use too
        settings = replace(settings, runtime=runtime.name)
    return Workspace(runtime, StateStore.for_runtime(name, settings), name, settings)


def remove_clusters(ws: Workspace, progress: Progress | None = None) -> None:
    """The lab cluster and the restore cluster stopped and deleted, and what the store recorded of
    them (environment, lab runs) forgotten: a fresh start (`dselab down --purge`, `dselab test`)."""
    ws.runtime.down(purge=True)
    ws.runtime.for_cluster("restore", progress).down(purge=True)
    ws.store.forget_everything()


def template_vars(ws: Workspace) -> dict[str, Any]:
    return version_vars(ws.runtime.cassandra_version(), ws.runtime_name,
                        nodetool_choice.chosen(resolve(ws.settings), ws.store))


def student_nodetool(ws: Workspace, node: str, args: list[str]) -> CommandResult:
    """nodetool as `./scripts/nodetool.sh` runs it: with the client nodetool_choice says."""
    return ws.runtime.student_nodetool(node, args, nodetool_choice.chosen(resolve(ws.settings), ws.store))


def baseline(ws: Workspace, lab: Lab) -> Baseline:
    """The lab's baseline; a lab checked before `dselab start` reads logs from their beginning."""
    return ws.store.baseline(lab.id) or Baseline(log_marks={}, started_at=0)


def context(ws: Workspace, lab: Lab) -> CheckContext:
    return CheckContext(runtime=ws.runtime, store=ws.store, lab=lab, baseline=baseline(ws, lab),
                        restore_runtime=ws.runtime.for_cluster("restore"))


def require_runtime(ws: Workspace, lab: Lab) -> None:
    """Refuse, in one line, a lab whose steps do not work on this runtime (lab.yaml `runtimes:`)."""
    if ws.runtime_name not in lab.runtimes:
        raise UsageError(f"lab {lab.number} runs on the {' or '.join(lab.runtimes)} runtime only, not on "
                         f"{ws.runtime_name}: its steps edit each node's conf/ and move its commit log",
                         fix=f"dselab --runtime {lab.runtimes[0]} start {lab.number}")


def start_lab(ws: Workspace, lab_ref: str | Lab, progress: Progress | None = None) -> Lab:
    """Bring the cluster up if needed, apply the environment (its rows written again for a lab that
    starts from them), record the lab's baseline."""
    lab = lab_ref if isinstance(lab_ref, Lab) else get_lab(lab_ref)
    require_runtime(ws, lab)
    env = cluster.bring_up(ws.runtime, ws.store, progress or Silent())
    if lab.fresh_data:
        environment.write_again(ws.runtime, progress)
    ws.runtime.prepare_student_nodetool(nodetool_choice.for_lab(resolve(ws.settings), lab))
    record_baseline(ws, lab, env.get("fingerprint"))
    return lab


def record_baseline(ws: Workspace, lab: Lab, fingerprint: Any = None) -> None:
    """A fresh run of `lab` on a running cluster: log marks, start time, no attempts or answers."""
    marks = {node: ws.runtime.log_mark(node) for node in ws.runtime.node_names()}
    ws.store.set_student_nodetool(lab.nodetool)
    ws.store.start_run(lab.id, Baseline(log_marks=marks, started_at=time.time(), fingerprint=fingerprint,
                                        cassandra_version=ws.runtime.cassandra_version()))


def check(ws: Workspace, lab_ref: str | Lab, step_refs: list[str] | tuple[str, ...] = (),
          source: str = "cli") -> list[CheckResult]:
    lab = lab_ref if isinstance(lab_ref, Lab) else get_lab(lab_ref)
    steps = lab.select(list(step_refs))
    return run_checks(context(ws, lab), steps, source)


def check_one(ws: Workspace, lab: Lab, step: Step, source: str = "cli") -> CheckResult:
    return run_check(context(ws, lab), step, source)


def check_end_of_lab(ws: Workspace, lab: Lab, source: str = "protocol") -> CheckResult | None:
    """The lab's own final verification (lab 05: restored data equals the backup), if it has one."""
    if END_OF_LAB not in lab.checks:
        return None
    final = Step(id=END_OF_LAB, number=len(lab.steps) + 1, title="End-of-lab verification", body="", solution=())
    return run_check(context(ws, lab), final, source)


def record_answer(ws: Workspace, lab: Lab, step: Step, value: str) -> Step:
    """Store the answer to a read-only step's question. The caller found the lab and step (the CLI
    through the lab loader, the web app among the labs it serves): no second lookup here."""
    store_answer(ws.store, lab, step, value)
    return step


def store_answer(store: StateStore, lab: Lab, step: Step, value: str) -> str:
    """Validate an answer to `step` and keep it in `store`; the value kept."""
    if not step.needs_answer:
        answered = [f"{s.number} ({s.id})" for s in lab.steps if s.needs_answer] or ["none"]
        raise UsageError(f"step {step.number} ({step.id}) takes no answer; steps that do: {', '.join(answered)}")
    value = value.strip()
    if not SAFE_VALUE.match(value):
        raise UsageError("an answer is 1-64 letters, digits, spaces or . , : _ - (e.g. `143.08 KiB`)")
    store.set_answer(lab.id, step.id, value)
    return value


def solution_commands(ws: Workspace, step: Step) -> list[str]:
    variables = template_vars(ws)
    return [render_text(cmd, variables, where=f"solution of step {step.id}") for cmd in step.solution]


@dataclass
class SolveRun:
    """What `solve` did: the steps it solved, those it skipped as passed in this lab run, and,
    when asked to check, each solved step's check (the last one failed if the run stopped)."""

    solved: list[Step]
    skipped: list[Step]
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.checks)


def resume_point(lab: Lab, passed: set[str]) -> int:
    """Index of the first step that has not passed. Steps undo each other on purpose (step 4
    clears step 1's snapshot), so a later unpassed step never sends us back to an earlier one."""
    return next((i for i, step in enumerate(lab.steps) if step.id not in passed), len(lab.steps))


def solve(ws: Workspace, lab_ref: str | Lab, step_refs: list[str] | tuple[str, ...] = (),
          progress: Progress | None = None, check: bool = False) -> SolveRun:
    """Run each step's solution: the commands a student would type, in a lab folder. Named steps
    are solved as named; with none, the lab resumes from the first step not passed in this run.
    With `check`, each step is checked right after its solution (recorded like a student's check,
    so a later resume starts after it) and the run stops at a step whose check fails."""
    progress = progress or Silent()
    lab = lab_ref if isinstance(lab_ref, Lab) else get_lab(lab_ref)
    if step_refs:
        steps, skipped = lab.select(list(step_refs)), []
    else:
        start = resume_point(lab, ws.store.passed_steps(lab.id))
        steps, skipped = list(lab.steps[start:]), list(lab.steps[:start])
    run = SolveRun(solved=[], skipped=skipped)
    for step in steps:
        for command in solution_commands(ws, step):
            progress.step(f"step {step.number} ({step.id}): {command}")
            run_student_command(command, student_settings(ws))
        run.solved.append(step)
        if check:
            run.checks.append(check_one(ws, lab, step, source="solve"))
            if not run.ok:
                break
        progress.done(f"step {step.number} ({step.id}) solved")
    return run


def student_settings(ws: Workspace) -> Settings:
    """The settings a student's commands run with: the workspace's, on its runtime."""
    settings = resolve(ws.settings)
    return settings if settings.runtime == ws.runtime_name else replace(settings, runtime=ws.runtime_name)


def student_env(settings: Settings) -> dict[str, str]:
    """The environment a student's shell would have: our scripts and `dselab` on PATH, and
    dselab's settings. The rest is this process's own environment (PATH, LANG, JAVA_HOME ...), as
    a student's terminal would have it: copied, not read; dselab's variables come from `settings` only.
    On the docker runtime `docker compose` there reaches the lab's containers from the lab folder, which
    holds no compose file (the module's `docker compose exec dse-seed ...`): the project and files are named."""
    env = {k: v for k, v in os.environ.items() if k not in variable_names()}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), *os.get_exec_path()])
    env.update(settings.child_env())
    if settings.runtime == "docker":
        from dselab.runtime.compose import compose_files

        env["COMPOSE_PROJECT_NAME"] = settings.compose_project
        env["COMPOSE_FILE"] = os.pathsep.join(str(path) for path in compose_files(settings))
        env.pop("COMPOSE_PATH_SEPARATOR", None)  # the list above is separated by os.pathsep, compose's default
    return env


def run_student_command(command: str, settings: Settings, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Type one command in a lab folder (scripts/ and labs' data/, as `dselab init` makes it)."""
    from dselab.lab_folder import working_folder

    # Its own process group, so a timeout ends the whole pipeline, not only bash (a child left
    # holding the output pipe would keep us waiting).
    with subprocess.Popen(["bash", "-euo", "pipefail", "-c", command], cwd=working_folder(settings),
                          env=student_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, stdin=subprocess.DEVNULL, start_new_session=True) as child:
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            stdout, stderr = child.communicate()
            raise EnvironmentProblem(f"solution command did not finish within {timeout:.0f}s: {command}: "
                                     f"{reason_line(stderr, stdout)}", fix="see the nodes with `dselab status`") from None
    proc = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    if proc.returncode != 0:
        raise EnvironmentProblem(f"solution command failed (exit {proc.returncode}): {command}: "
                                 f"{reason_line(proc.stderr, proc.stdout)}")
    return proc
