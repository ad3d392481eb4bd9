"""A catalogue: lab roots (labs/ + checks/) loaded through one interface, every problem reported at once,
each catalogue with its own check functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab import resources
from dselab.catalogue import Catalogue
from dselab.lab import ContentError, default_module

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
    content = Catalogue.load([resources.content_root()])
    lab = content.lab("05")
    assert lab.check_module is not None and lab.check_module.parent.name == "checks"
    assert lab.check_module.name == "lab05_backup_restore.py"
    assert content.check_for("05-backup-restore", "snapshot") is lab.checks["snapshot"]
    assert set(lab.checks) == {s.id for s in lab.steps} | {"end-of-lab"}
    assert content.lab("01").check_module.name == "lab01_environment.py"


def test_the_example_lab_loads_from_an_extra_root_named_in_dselab_labs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_LABS", str(EXAMPLE_ROOT))
    content = Catalogue.load(resources.lab_roots())
    lab = content.lab("90")
    assert lab.id == "90-example" and [s.id for s in lab.steps] == ["keyspace", "notes"]
    assert lab.check_module == EXAMPLE_ROOT / "checks" / "lab90_example.py"
    assert content.check_for("90-example", "keyspace").__module__ == "dselab_checks.lab90_example"
    assert {lab.id for lab in content.labs} >= {"01-environment", "05-backup-restore", "90-example"}


def test_the_example_lab_is_not_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSELAB_LABS", raising=False)
    assert "90-example" not in {lab.id for lab in Catalogue.load(resources.lab_roots()).labs}


def test_every_lab_root_problem_is_reported_at_once(tmp_path: Path) -> None:
    make_lab(tmp_path, "91-nochecks", ("a",))
    make_lab(tmp_path, "92-importerror", ("a",), checks="import os\n\nraise ImportError('no module named x')\n")
    make_lab(tmp_path, "93-mismatch", ("a", "b"), checks=(
        "from dselab.check_engine import check\n\n@check('93-mismatch', 'a')\ndef a(ctx): pass\n\n"
        "@check('93-mismatch', 'zzz')\ndef z(ctx): pass\n"))
    make_lab(tmp_path, "05-backup-restore", ("a",), checks="")
    make_lab(tmp_path, "94-slash", ("a",), extra="checks: ../evil.py\n")
    with pytest.raises(ContentError) as err:
        Catalogue.load((resources.content_root(), tmp_path, tmp_path / "not-a-root"))
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
        Catalogue.load((tmp_path,))


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    make_lab(tmp_path, "97-syntax", ("a",), checks="x = 1\ndef broken(:\n")
    with pytest.raises(ContentError, match=r"lab97_syntax\.py:2: cannot import the checks module: SyntaxError"):
        Catalogue.load((tmp_path,))


def test_two_catalogues_of_one_root_are_equal_and_share_no_check() -> None:
    one, two = Catalogue.load([EXAMPLE_ROOT]), Catalogue.load([EXAMPLE_ROOT])
    assert one.labs == two.labs and set(one.checks) == set(two.checks) == {("90-example", "keyspace"),
                                                                           ("90-example", "notes")}
    assert one.check_for("90-example", "notes") is not two.check_for("90-example", "notes")
    assert one.check_for("90-example", "nothing") is None and one.check_for("99-none", "notes") is None


def test_a_catalogue_holds_only_its_own_roots(tmp_path: Path) -> None:
    """The same lab number in two tmp roots: each catalogue sees its own lab and its own check."""
    make_lab(tmp_path / "a", "93-same", ("a",), checks=(
        "from dselab.check_engine import check\n\n@check('93-same', 'a')\ndef a(ctx): raise ctx.passed('from a')\n"))
    make_lab(tmp_path / "b", "93-same", ("b",), checks=(
        "from dselab.check_engine import check\n\n@check('93-same', 'b')\ndef b(ctx): raise ctx.passed('from b')\n"))
    first, second = Catalogue.load([tmp_path / "a"]), Catalogue.load([tmp_path / "b"])
    assert [s.id for s in first.lab("93").steps] == ["a"] and set(first.lab("93").checks) == {"a"}
    assert [s.id for s in second.lab("93").steps] == ["b"] and set(second.lab("93").checks) == {"b"}


def test_one_checks_module_name_in_two_roots_of_one_catalogue_is_an_error(tmp_path: Path) -> None:
    body = "from dselab.check_engine import check\n\n@check('{lab}', 'a')\ndef a(ctx): pass\n"
    make_lab(tmp_path / "a", "93-same", ("a",), checks=body.format(lab="93-same"))
    make_lab(tmp_path / "b", "94-other", ("a",), extra="checks: lab93_same.py\n")
    (tmp_path / "b" / "checks").mkdir()
    (tmp_path / "b" / "checks" / "lab93_same.py").write_text(body.format(lab="94-other"))
    with pytest.raises(ContentError, match="another lab root already has a checks module named lab93_same.py"):
        Catalogue.load([tmp_path / "a", tmp_path / "b"])
