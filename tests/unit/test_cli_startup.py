"""The command modules (web lab, grading, classroom) are imported only when one of their commands
runs or the commands are listed; an import problem in one stops dselab with one line and exit 2,
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
    import click

    from dselab.cli import main

    ctx = click.Context(main)
    names = main.list_commands(ctx)
    assert {"show", "build-site", "serve", "grade", "gradebook", "keygen", "logs", "classroom"} <= set(names)
    assert all(main.get_command(ctx, name) is not None for name in names)


@pytest.mark.parametrize("module", sorted({"dselab.cli_web", "dselab.cli_grading", "dselab.cli_classroom"}))
def test_the_lazy_map_names_exactly_what_each_module_registers(module: str) -> None:
    import importlib

    import click

    from dselab.cli import LAZY_COMMANDS

    group = click.Group()
    importlib.import_module(module).register(group)
    assert set(group.commands) == {name for name, owner in LAZY_COMMANDS.items() if owner == module}


QUICK = """
import sys
from dselab.cli import main
try:
    main(["check", "--help"])
except SystemExit:
    pass
print(sorted(m for m in ("flask", "werkzeug", "markdown_it", "dselab.classroom") if m in sys.modules))
"""


def test_a_check_does_not_import_the_web_server_or_the_classroom() -> None:
    proc = subprocess.run([sys.executable, "-c", QUICK], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
