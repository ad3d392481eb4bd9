"""The check modules of lab roots: each lab's `checks/<module>.py`, imported by path.

A lab root is a folder with `labs/` and `checks/` (the shipped content is one, `DSELAB_LABS`
adds more). Importing a lab's checks module runs its `@check(lab_id, step_id)` decorators,
which fill the registry in dselab.check_engine. Every problem (missing module, import error, a
step without a check, a check for a step the lab does not have) is collected, not raised, so
lab.load_all reports them all at once.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dselab.lab import Lab

MODULE_PREFIX = "dselab_checks"  # sys.modules name of a checks module: dselab_checks.<file stem>
_LOADED: dict[Path, ModuleType] = {}


def default_module(lab_folder: str) -> str:
    """The checks module a lab uses unless lab.yaml names one: 05-backup-restore -> lab05_backup_restore.py."""
    return "lab" + lab_folder.replace("-", "_") + ".py"


def import_checks(path: Path) -> ModuleType:
    """Import one checks module by its path (once per file), registering its checks."""
    key = path.resolve()
    if key in _LOADED:
        return _LOADED[key]
    name = f"{MODULE_PREFIX}.{path.stem}"
    clash = sys.modules.get(name)
    if clash is not None:
        raise ImportError(f"another lab root already has a checks module named {path.name} ({clash.__file__})")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"not a Python module: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _LOADED[key] = module
    return module


def _import_problem(path: Path, err: Exception) -> str:
    """`file:line: ExceptionType: message`, at the deepest line of the checks module itself."""
    line = getattr(err, "lineno", None) if isinstance(err, SyntaxError) else None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: cannot import the checks module: {type(err).__name__}: {err}"


def load_checks(labs: Iterable[Lab], errors: list[str]) -> None:
    """Import every lab's checks module and confirm each step has exactly its lab's check."""
    from dselab.check_engine import END_OF_LAB, registrations

    for lab in labs:
        path = lab.checks
        if path is None:
            continue
        if not path.is_file():
            errors.append(f"{lab.root / 'lab.yaml'}: its checks module {path} does not exist")
            continue
        try:
            module = import_checks(path)
        except Exception as err:  # a lab author's bug of any kind: report it, with the others
            errors.append(_import_problem(path, err))
            continue
        step_ids = {s.id for s in lab.steps} | {END_OF_LAB}
        for lab_id, step_id in registrations(module.__name__):
            if lab_id != lab.id:
                errors.append(f"{path}: registers a check for lab {lab_id!r}; this module serves lab {lab.id!r}")
            elif step_id not in step_ids:
                errors.append(f"{path}: registers a check for step {step_id!r}, which lab {lab.id} does not have")
        mine = {step_id for lab_id, step_id in registrations(module.__name__) if lab_id == lab.id}
        for step in lab.steps:
            if step.id not in mine:
                errors.append(f"{path}: no @check({lab.id!r}, {step.id!r}) for step {step.number}")
