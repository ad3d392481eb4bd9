"""dselab.bytecode: the package's modules and every lab root's checks compiled ahead, so a process
that may not write beside them (a seat) or runs with PYTHONDONTWRITEBYTECODE loads bytecode instead
of compiling; a lab author's syntax error names its folder and stops nothing."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import dselab
from dselab import bytecode
from dselab.settings import Settings


def lab_root(tmp_path: Path, checks: dict[str, str]) -> Path:
    root = tmp_path / "more-labs"
    (root / "checks").mkdir(parents=True)
    for name, text in checks.items():
        (root / "checks" / name).write_text(text)
    return root


def settings_with(tmp_path: Path, *roots: Path) -> Settings:
    return Settings(home=tmp_path / "home", cache=tmp_path / "cache", labs=roots)


def test_the_package_and_each_lab_roots_checks_are_compiled(tmp_path: Path) -> None:
    root = lab_root(tmp_path, {"lab09_extra.py": "def check():\n    return 1\n"})
    settings = settings_with(tmp_path, root)
    assert bytecode.source_dirs(settings)[0] == Path(dselab.__file__).resolve().parent
    assert root / "checks" in bytecode.source_dirs(settings)

    assert bytecode.precompile(settings) == []
    cached = Path(importlib.util.cache_from_source(str(root / "checks" / "lab09_extra.py")))
    assert cached.is_file()
    package_module = Path(dselab.__file__).resolve().parent / "bytecode.py"
    assert Path(importlib.util.cache_from_source(str(package_module))).is_file()


def test_a_check_module_that_does_not_compile_names_its_folder_and_the_rest_is_compiled(tmp_path: Path) -> None:
    root = lab_root(tmp_path, {"lab09_broken.py": "def check(:\n", "lab09_fine.py": "X = 1\n"})
    assert bytecode.precompile(settings_with(tmp_path, root)) == [root / "checks"]
    assert Path(importlib.util.cache_from_source(str(root / "checks" / "lab09_fine.py"))).is_file()


def test_the_command_compiles_even_where_python_is_told_not_to_write_bytecode(tmp_path: Path) -> None:
    root = lab_root(tmp_path, {"lab09_extra.py": "Y = 2\n"})
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DSELAB_LABS": str(root),
           "DSELAB_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "dselab.bytecode"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert Path(importlib.util.cache_from_source(str(root / "checks" / "lab09_extra.py"))).is_file()
