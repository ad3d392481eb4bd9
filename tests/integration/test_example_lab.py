"""A lab written without touching src/ (tests/example_labroot, found through DSELAB_LABS) passes
the CI lab self-test on the real cluster: each check fails before its solve and passes after."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from dselab import service
from dselab.lab_folder import working_folder

EXAMPLE_ROOT = Path(__file__).resolve().parents[1] / "example_labroot"

pytestmark = pytest.mark.integration


def test_dselab_test_runs_the_example_lab_from_an_extra_lab_root(lab_workspace: service.Workspace) -> None:
    ws = lab_workspace
    ws.runtime.cql("DROP KEYSPACE IF EXISTS example_ks")
    env = {**service.student_env(service.student_settings(ws)), "DSELAB_LABS": str(EXAMPLE_ROOT)}
    try:
        proc = subprocess.run(["dselab", "test", "90", "--running"], cwd=working_folder(), env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        ws.runtime.cql("DROP KEYSPACE IF EXISTS example_ks")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"ok\s+step\s+1 keyspace\s+fails before solve, passes after", proc.stdout)
    assert re.search(r"ok\s+step\s+2 notes\s+fails before solve, passes after", proc.stdout)  # its data/ file
    assert "2 passed, 0 failed (lab 90" in proc.stdout
    assert ws.runtime.is_running("dse-seed")  # --running leaves the cluster as it was
