"""An import problem in a command module stops dselab at start-up with one line and exit 2,
instead of the module's commands silently vanishing from the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

BROKEN = """
import sys
sys.modules[{missing!r}] = None  # what a missing or broken dependency looks like to `import`
from dselab.cli import main
main(["--help"])
"""


@pytest.mark.parametrize(("missing", "module"), [("flask", "dselab.cli_web"), ("dselab.grading.keys", "dselab.cli_grading")])
def test_broken_command_module_is_a_start_up_error(missing: str, module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", BROKEN.format(missing=missing)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith(f"dselab: error: cannot load the command module {module}: "
                                  f"ModuleNotFoundError: import of {missing} halted")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_every_command_module_registers_its_commands() -> None:
    from dselab.cli import main

    assert {"show", "build-site", "serve", "grade", "gradebook", "keygen", "logs"} <= set(main.commands)
