"""dselab finds its content through the installation (wheel, editable install, DSELAB_CONTENT)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dselab import resources
from dselab.errors import EnvironmentProblem

CHECKOUT = Path(__file__).resolve().parents[2]  # these tests always run from the source tree


def test_an_editable_install_reads_the_source_tree_pip_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSELAB_CONTENT", raising=False)
    assert resources.content_root().resolve() == CHECKOUT
    assert (resources.site_dir() / "templates" / "step.html").is_file()
    assert (resources.scripts_dir() / "nodetool.sh").is_file()
    assert resources.compose_file().name == "docker-compose.yml"


def test_dselab_content_overrides_and_must_hold_labs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "labs").mkdir()
    monkeypatch.setenv("DSELAB_CONTENT", str(tmp_path))
    assert resources.content_root() == tmp_path
    monkeypatch.setenv("DSELAB_CONTENT", str(tmp_path / "nowhere"))
    with pytest.raises(EnvironmentProblem, match="has no labs/ folder"):
        resources.content_root()


def test_an_installation_without_content_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DSELAB_CONTENT", raising=False)
    monkeypatch.setattr(resources.resources, "files", lambda package: tmp_path)
    monkeypatch.setattr(resources, "_editable_source", lambda: None)
    with pytest.raises(EnvironmentProblem, match="no labs, site or scripts") as err:
        resources.content_root()
    assert "DSELAB_CONTENT" in (err.value.fix or "")


def test_a_wheel_install_uses_its_packaged_content(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DSELAB_CONTENT", raising=False)
    (tmp_path / "content" / "labs").mkdir(parents=True)
    monkeypatch.setattr(resources.resources, "files", lambda package: tmp_path)
    assert resources.content_root() == tmp_path / "content"


def test_dselab_labs_adds_roots_after_the_shipped_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    monkeypatch.setenv("DSELAB_LABS", os.pathsep.join([str(one), "", str(two), str(one)]))
    roots = resources.lab_roots()
    assert roots[1:] == (one, two)
    assert roots[0] == resources.content_root()
