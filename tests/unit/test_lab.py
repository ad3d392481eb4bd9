"""Lab content loads as plain data, ids resolve both ways, and broken content is reported at once."""

from pathlib import Path

import pytest

from dselab.catalogue import Catalogue
from dselab.errors import UsageError
from dselab.lab import ContentError
from shipped_content import shipped, shipped_lab


def test_real_labs_load_with_the_module_checklist_first():
    lab = shipped_lab("05")
    assert lab is shipped_lab("05-backup-restore") and lab is shipped_lab("5")
    assert [s.id for s in lab.steps[:5]] == ["snapshot", "list", "incremental", "clear", "cleanup"]
    assert lab.step("1").solution[-1] == "./scripts/nodetool.sh snapshot training -t lab_backup"
    assert "./scripts/nodetool-node.sh dse-node-1 cleanup" in lab.step("cleanup").solution
    assert lab.step("list").needs_answer


def test_unknown_ids_list_the_valid_ones():
    with pytest.raises(UsageError, match=r"no lab '9'; valid labs: 01 \(01-environment\), 05"):
        shipped().lab("9")
    with pytest.raises(UsageError, match=r"has no step 'x', '42'; valid steps: 1 \(snapshot\)"):
        shipped_lab("05").select(["x", "42", "1"])


def test_every_content_error_is_reported_at_once(tmp_path: Path):
    bad = tmp_path / "labs" / "07-broken"
    (bad / "steps").mkdir(parents=True)
    (bad / "lab.yaml").write_text("title: Broken\nsteps:\n  - page: steps/01-a.md\n  - page: steps/02-b.md\n")
    (bad / "steps" / "01-a.md").write_text("no front matter here\n")
    with pytest.raises(ContentError) as err:
        Catalogue.load((tmp_path,))
    assert "01-a.md: no front matter" in err.value.message
    assert "02-b.md: missing step page" in err.value.message


@pytest.mark.parametrize("ref", ["²", "٣", "１", "05²", "9" * 5000])
def test_ids_are_ascii_only_and_never_crash(ref):
    """str.isdigit() says yes to '²' and int() then fails: every such ref is an unknown id."""
    with pytest.raises(UsageError, match="no lab"):
        shipped().lab(ref)
    with pytest.raises(UsageError, match="has no step"):
        shipped_lab("05").step(ref)


def test_cli_show_with_a_superscript_is_one_line_and_exit_2():
    from click.testing import CliRunner

    from dselab.cli import main

    result = CliRunner().invoke(main, ["show", "²"])
    assert result.exit_code == 2 and "no lab '²'" in result.output
    result = CliRunner().invoke(main, ["show", "05", "²"])
    assert result.exit_code == 2 and "has no step '²'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_non_ascii_step_ids_and_lab_names_are_content_errors(tmp_path: Path):
    lab = tmp_path / "labs" / "07-ünicode"
    (lab / "steps").mkdir(parents=True)
    (lab / "lab.yaml").write_text("title: X\nsteps:\n  - page: steps/01-a.md\n")
    (lab / "steps" / "01-a.md").write_text("---\nid: schritt\ntitle: A\nsolution: []\n---\nbody\n")
    good = tmp_path / "labs" / "08-ok"
    (good / "steps").mkdir(parents=True)
    (good / "lab.yaml").write_text("title: Y\nsteps:\n  - page: steps/01-a.md\n")
    (good / "steps" / "01-a.md").write_text("---\nid: schritt²\ntitle: A\nsolution: []\n---\nbody\n")
    with pytest.raises(ContentError) as err:
        Catalogue.load((tmp_path,))
    assert "07-ünicode: a lab folder is named NN-name" in err.value.message
    assert "step id 'schritt²' is not 1-64 of a-z 0-9 _ - (ASCII)" in err.value.message


def test_a_lettered_lab_is_its_own_lab_and_05_stays_05():
    """05b and 05c sit beside 05: `05` and `5` still name 05 alone; `05b`, `5b` and the id name 05b."""
    assert shipped_lab("05").id == shipped_lab("5").id == "05-backup-restore"
    assert shipped_lab("05b").id == shipped_lab("5b").id == shipped_lab("05b-point-in-time").id == "05b-point-in-time"
    assert shipped_lab("05c").id == shipped_lab("5c").id == "05c-one-table"
    with pytest.raises(UsageError, match="no lab '05d'"):
        shipped().lab("05d")


def test_two_labs_numbered_alike_with_and_without_zeros_are_a_content_error(tmp_path: Path):
    for name in ("05b-one", "5b-two"):
        lab = tmp_path / "labs" / name
        (lab / "steps").mkdir(parents=True)
        (lab / "lab.yaml").write_text("title: X\nsteps:\n  - page: steps/01-a.md\n")
        (lab / "steps" / "01-a.md").write_text("---\nid: a\ntitle: A\nsolution: []\n---\nbody\n")
    with pytest.raises(ContentError, match="lab number '5b' is also used by"):
        Catalogue.load((tmp_path,))


def test_a_lab_may_start_from_the_environments_rows(tmp_path: Path):
    """lab.yaml `data: environment` (labs 05b and 05c): `dselab start` writes the rows again; any other
    value is a content error naming the file."""
    assert shipped_lab("05c").fresh_data and shipped_lab("05b").fresh_data and not shipped_lab("05").fresh_data
    lab = tmp_path / "labs" / "07-x"
    (lab / "steps").mkdir(parents=True)
    (lab / "lab.yaml").write_text("title: X\ndata: yesterday\nsteps:\n  - page: steps/01-a.md\n")
    (lab / "steps" / "01-a.md").write_text("---\nid: a\ntitle: A\nsolution: []\n---\nbody\n")
    with pytest.raises(ContentError, match="data: 'yesterday' is not 'environment'"):
        Catalogue.load((tmp_path,))
