"""`dselab solve LAB` with no steps resumes: from the first step not passed in this lab run, in
order, to the end; what it skipped is said. Named steps are solved as named."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dselab import cli, service, settings
from dselab.catalogue import Catalogue
from dselab.check_engine import CheckContext
from dselab.errors import EnvironmentProblem
from dselab.lab import Lab, Step
from dselab.state import StateStore

IDS = ["snapshot", "list", "incremental", "clear", "cleanup"]


def solved(tmp_path: Path) -> list[str]:
    log = tmp_path / "solved.log"
    return log.read_text().split() if log.exists() else []


def _solved_or_not(step_id: str) -> Callable[[CheckContext], None]:
    def check_fn(ctx: CheckContext) -> None:
        if step_id in solved(Path(os.environ["SOLVED_LOG"]).parent):
            raise ctx.passed(f"{step_id} done")
        raise ctx.failed(f"{step_id} not done")

    return check_fn


CHECKS = {sid: _solved_or_not(sid) for sid in IDS}
LAB = Lab(id="97-resume", number="97", title="Resume", summary="", steps=tuple(
    Step(id=sid, number=n, title=sid, body="", solution=(f'echo {sid} >> "$SOLVED_LOG"',))
    for n, sid in enumerate(IDS, start=1)), checks=CHECKS)


class VersionOnly:
    def cassandra_version(self) -> str:
        return "5.0.9"

    def for_cluster(self, cluster: str, progress: object = None) -> VersionOnly:
        return self


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> service.Workspace:
    monkeypatch.setenv("SOLVED_LOG", str(tmp_path / "solved.log"))
    store = StateStore(tmp_path / "state.sqlite")
    store.record_attempt(LAB.id, "incremental", "pass", "before this run", [])  # a previous run: ignored
    time.sleep(0.01)
    store.start_run(LAB.id, {"log_marks": {}, "started_at": time.time()})
    return service.Workspace(VersionOnly(), store, "local")  # type: ignore[arg-type]


def test_resumes_from_the_first_step_not_passed_in_this_run(ws: service.Workspace, tmp_path: Path) -> None:
    for step, status in [("snapshot", "pass"), ("list", "fail"), ("list", "pass"), ("incremental", "fail"),
                         ("cleanup", "pass")]:
        ws.store.record_attempt(LAB.id, step, status, "", [])
    run = service.solve(ws, LAB)
    # incremental passed only before `dselab start`; cleanup passed, but comes after: solved again.
    assert [s.id for s in run.skipped] == ["snapshot", "list"]
    assert [s.id for s in run.solved] == ["incremental", "clear", "cleanup"] == solved(tmp_path)


def test_nothing_passed_solves_every_step_and_all_passed_solves_none(ws: service.Workspace, tmp_path: Path) -> None:
    assert [s.id for s in service.solve(ws, LAB).solved] == IDS
    for step in IDS:
        ws.store.record_attempt(LAB.id, step, "pass", "", [])
    run = service.solve(ws, LAB)
    assert (run.solved, [s.id for s in run.skipped]) == ([], IDS)
    assert solved(tmp_path) == IDS  # only the first run solved anything


def test_named_steps_are_solved_as_named_even_when_passed(ws: service.Workspace, tmp_path: Path) -> None:
    for step in IDS:
        ws.store.record_attempt(LAB.id, step, "pass", "", [])
    run = service.solve(ws, LAB, ["4", "snapshot"])
    assert ([s.id for s in run.solved], run.skipped) == (["clear", "snapshot"], [])
    assert solved(tmp_path) == ["clear", "snapshot"]


def test_a_failed_command_names_the_reason_not_the_last_stack_frame(ws: service.Workspace) -> None:
    failing = Step(id="boom", number=1, title="boom", body="", solution=(
        "printf 'error: Snapshot lab_backup already exists.\\n-- StackTrace --\\n"
        "\\tat java.base/java.lang.Thread.run(Thread.java:840)\\n' >&2; exit 2",))
    lab = Lab(id="96-boom", number="96", title="Boom", summary="", steps=(failing,))
    with pytest.raises(EnvironmentProblem) as err:
        service.solve(ws, lab)
    assert err.value.message.endswith(": error: Snapshot lab_backup already exists.")  # not "...Thread.java:840)"


def test_cli_checks_each_step_and_says_what_it_skipped(ws: service.Workspace, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "workspace", lambda progress=True: ws)
    monkeypatch.setattr("dselab.catalogue.default", lambda: Catalogue(roots=(), labs=(LAB,)))
    for step in IDS[:3]:
        ws.store.record_attempt(LAB.id, step, "pass", "", [])
    result = CliRunner().invoke(cli.main, ["solve", "97"])
    assert result.exit_code == 0, result.output
    assert "skipped (passed in this lab run): 1 (snapshot), 2 (list), 3 (incremental)" in result.output
    assert "PASS  step 4 (clear): clear done" in result.output and "PASS  step 5 (cleanup)" in result.output
    again = CliRunner().invoke(cli.main, ["solve", "97"])  # the checks were recorded: nothing left
    assert again.exit_code == 0 and "nothing to solve" in again.output


def test_solve_stops_at_a_step_whose_check_fails_after_its_solution(ws: service.Workspace, tmp_path: Path) -> None:
    broken = Lab(id=LAB.id, number="97", title="Resume", summary="", steps=(
        LAB.steps[0], Step(id="list", number=2, title="list", body="", solution=("true",)), *LAB.steps[2:]),
        checks=CHECKS)
    run = service.solve(ws, broken, check=True)
    assert [s.id for s in run.solved] == ["snapshot", "list"] and not run.ok
    assert run.checks[-1].message == "list not done"
    assert solved(tmp_path) == ["snapshot"]


def test_a_command_that_hangs_is_a_one_line_error_not_a_traceback() -> None:
    """The whole pipeline is ended at the timeout (killing bash alone would leave `sleep` holding the pipe)."""
    started = time.monotonic()
    with pytest.raises(EnvironmentProblem, match=r"did not finish within 1s: echo waiting; sleep 30 \| cat: waiting"):
        service.run_student_command("echo waiting; sleep 30 | cat", settings.current(), timeout=1)
    assert time.monotonic() - started < 15
