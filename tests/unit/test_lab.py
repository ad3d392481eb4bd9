"""Lab content loads as plain data, ids resolve both ways, and broken content is reported at once."""

from pathlib import Path

import pytest

from dselab.errors import UsageError
from dselab.lab import ContentError, get_lab, load_all


def test_real_labs_load_with_the_module_checklist_first():
    lab = get_lab("05")
    assert lab is get_lab("05-backup-restore") and lab is get_lab("5")
    assert [s.id for s in lab.steps[:5]] == ["snapshot", "list", "incremental", "clear", "cleanup"]
    assert lab.step("1").solution == ("./scripts/nodetool.sh snapshot training -t lab_backup",)
    assert "./scripts/nodetool-node.sh dse-node-1 cleanup" in lab.step("cleanup").solution
    assert lab.step("list").needs_answer


def test_unknown_ids_list_the_valid_ones():
    with pytest.raises(UsageError, match=r"no lab '9'; valid labs: 01 \(01-environment\), 05"):
        get_lab("9")
    with pytest.raises(UsageError, match=r"has no step 'x', '42'; valid steps: 1 \(snapshot\)"):
        get_lab("05").select(["x", "42", "1"])


def test_every_content_error_is_reported_at_once(tmp_path: Path):
    bad = tmp_path / "07-broken"
    (bad / "steps").mkdir(parents=True)
    (bad / "lab.yaml").write_text("title: Broken\nsteps:\n  - page: steps/01-a.md\n  - page: steps/02-b.md\n")
    (bad / "steps" / "01-a.md").write_text("no front matter here\n")
    with pytest.raises(ContentError) as err:
        load_all(tmp_path)
    assert "01-a.md: no front matter" in err.value.message
    assert "02-b.md: missing step page" in err.value.message
