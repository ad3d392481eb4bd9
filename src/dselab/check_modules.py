"""The check modules of lab roots: each lab's `checks/<module>.py`, imported by path.

A lab root is a folder with `labs/` and `checks/` (the shipped content is one, `DSELAB_LABS`
adds more). Importing a lab's checks module runs its `@check(lab_id, step_id)` decorators, which
mark its functions; `attach_checks` collects them into the lab's own `checks` table. Nothing is
registered globally: each load executes the modules afresh, so two catalogues never share a
check function. Every problem (missing module, import error, a step without a check, a check for
a step the lab does not have) is collected, not raised, so a catalogue reports them all at once.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from dselab.check_engine import END_OF_LAB, CheckFn, marked_checks
from dselab.lab import Lab, StepCheck

MODULE_PREFIX = "dselab_checks"  # sys.modules name of a checks module: dselab_checks.<file stem>


def module_name(path: Path) -> str:
    return f"{MODULE_PREFIX}.{path.stem}"


def import_checks(path: Path) -> ModuleType:
    """Execute one checks module from its path, as a new module object (its functions get marked).

    It is entered in sys.modules under dselab_checks.<stem> (what dataclasses and tracebacks
    look up), replacing an earlier load of it."""
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"not a Python module: {path}")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            del sys.modules[name]
        else:
            sys.modules[name] = previous
        raise
    return module


def _import_problem(path: Path, err: Exception) -> str:
    """`file:line: ExceptionType: message`, at the deepest line of the checks module itself."""
    line = getattr(err, "lineno", None) if isinstance(err, SyntaxError) else None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: cannot import the checks module: {type(err).__name__}: {err}"


def _module_checks(lab: Lab, path: Path, module: ModuleType, errors: list[str]) -> dict[str, CheckFn]:
    """The lab's checks defined in `module`, each step confirmed to have exactly its lab's check."""
    step_ids = {s.id for s in lab.steps} | {END_OF_LAB}
    mine: dict[str, CheckFn] = {}
    for lab_id, step_id, fn in marked_checks(module):
        if lab_id != lab.id:
            errors.append(f"{path}: registers a check for lab {lab_id!r}; this module serves lab {lab.id!r}")
        elif step_id not in step_ids:
            errors.append(f"{path}: registers a check for step {step_id!r}, which lab {lab.id} does not have")
        else:
            mine[step_id] = fn
    for step in lab.steps:
        if step.id not in mine:
            errors.append(f"{path}: no @check({lab.id!r}, {step.id!r}) for step {step.number}")
    return mine


def attach_checks(labs: Iterable[Lab], errors: list[str]) -> list[Lab]:
    """The labs, each with the checks its checks module defines; problems are added to `errors`.
    Each module is executed once per call, whichever number of labs name it."""
    modules: dict[Path, ModuleType] = {}
    by_name: dict[str, Path] = {}  # module name -> the file this load took it from
    attached = []
    for lab in labs:
        path = lab.check_module
        checks: dict[str, StepCheck] = {}
        if path is not None and not path.is_file():
            errors.append(f"{lab.root / 'lab.yaml'}: its checks module {path} does not exist")
        elif path is not None:
            key = path.resolve()
            try:
                if key not in modules:
                    clash = by_name.setdefault(module_name(path), key)
                    if clash != key:
                        raise ImportError(f"another lab root already has a checks module named {path.name} ({clash})")
                    modules[key] = import_checks(path)
            except Exception as err:  # a lab author's bug of any kind: report it, with the others
                errors.append(_import_problem(path, err))
            else:
                checks.update(_module_checks(lab, path, modules[key], errors))
        attached.append(dataclasses.replace(lab, checks=checks))
    return attached
