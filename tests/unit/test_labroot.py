"""Lab roots: labs/ + checks/ loaded through one interface; every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab.check_engine import registered
from dselab.lab import ContentError, get_lab, load_all
from dselab.labroot import default_module, import_checks

EXAMPLE_ROOT = Path(__file__).resolve().parents[1] / "example_labroot"
PAGE = "---\nid: {id}\ntitle: A step\nsolution: [echo]\n---\nBody.\n"


def make_lab(root: Path, folder: str, steps: tuple[str, ...], checks: str | None = None,
             extra: str = "") -> None:
    lab = root / "labs" / folder
    (lab / "steps").mkdir(parents=True)
    pages = "".join(f"  - page: steps/{s}.md\n" for s in steps)
    (lab / "lab.yaml").write_text(f"title: T\n{extra}steps:\n{pages}")
    for step in steps:
        (lab / "steps" / f"{step}.md").write_text(PAGE.format(id=step))
    if checks is not None:
        (root / "checks").mkdir(exist_ok=True)
        (root / "checks" / default_module(folder)).write_text(checks)


def test_the_shipped_labs_find_their_checks_modules_in_the_top_level_checks_folder() -> None:
    lab = get_lab("05")
    assert lab.checks is not None and lab.checks.parent.name == "checks"
    assert lab.checks.name == "lab05_backup_restore.py"
    assert registered("05-backup-restore", "snapshot") is not None
    assert get_lab("01").checks.name == "lab01_environment.py"


def test_the_example_lab_loads_from_an_extra_root_named_in_dselab_labs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_LABS", str(EXAMPLE_ROOT))
    lab = get_lab("90")
    assert lab.id == "90-example" and [s.id for s in lab.steps] == ["keyspace", "notes"]
    assert lab.checks == EXAMPLE_ROOT / "checks" / "lab90_example.py"
    assert registered("90-example", "keyspace").__module__ == "dselab_checks.lab90_example"
    assert {lab.id for lab in load_all()} >= {"01-environment", "05-backup-restore", "90-example"}


def test_the_example_lab_is_not_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSELAB_LABS", raising=False)
    assert "90-example" not in {lab.id for lab in load_all()}


def test_every_lab_root_problem_is_reported_at_once(tmp_path: Path) -> None:
    make_lab(tmp_path, "91-nochecks", ("a",))
    make_lab(tmp_path, "92-importerror", ("a",), checks="import os\n\nraise ImportError('no module named x')\n")
    make_lab(tmp_path, "93-mismatch", ("a", "b"), checks=(
        "from dselab.check_engine import check\n\n@check('93-mismatch', 'a')\ndef a(ctx): pass\n\n"
        "@check('93-mismatch', 'zzz')\ndef z(ctx): pass\n"))
    make_lab(tmp_path, "05-backup-restore", ("a",), checks="")
    make_lab(tmp_path, "94-slash", ("a",), extra="checks: ../evil.py\n")
    with pytest.raises(ContentError) as err:
        load_all((get_lab("05").root.parents[1], tmp_path, tmp_path / "not-a-root"))
    message = err.value.message
    assert "91-nochecks/lab.yaml: its checks module" in message and "lab91_nochecks.py does not exist" in message
    assert "lab92_importerror.py:3: cannot import the checks module: ImportError: no module named x" in message
    assert "registers a check for step 'zzz', which lab 93-mismatch does not have" in message
    assert "no @check('93-mismatch', 'b') for step 2" in message
    assert "lab id '05-backup-restore' is also used by" in message
    assert "lab number '05' is also used by" in message
    assert "checks: '../evil.py' must be a file name in" in message
    assert "not-a-root: not a lab root (it has no labs/ folder)" in message


def test_a_checks_module_serves_only_its_own_lab(tmp_path: Path) -> None:
    make_lab(tmp_path, "95-other", ("a",), checks=(
        "from dselab.check_engine import check\n\n@check('95-other', 'a')\ndef a(ctx): pass\n\n"
        "@check('96-someone-else', 'a')\ndef b(ctx): pass\n"))
    with pytest.raises(ContentError, match="registers a check for lab '96-someone-else'; this module serves lab '95-other'"):
        load_all((tmp_path,))


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    make_lab(tmp_path, "97-syntax", ("a",), checks="x = 1\ndef broken(:\n")
    with pytest.raises(ContentError, match=r"lab97_syntax\.py:2: cannot import the checks module: SyntaxError"):
        load_all((tmp_path,))


def test_a_checks_module_is_imported_once() -> None:
    path = get_lab("05").checks
    assert import_checks(path) is import_checks(path)
