"""Which nodetool the scripts run: the setting first, then the lab started last, else the nodes' own."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab import nodetool_choice
from dselab.catalogue import Catalogue
from dselab.lab import ContentError
from dselab.settings import Settings
from dselab.state import StateStore
from dselab.templating import version_vars
from shipped_content import shipped_lab


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"DSELAB_HOME": str(tmp_path / "home"), "DSELAB_CACHE": str(tmp_path / "cache"), **env})


def test_lab_05_runs_the_modules_nodetool_and_lab_01_the_nodes_own() -> None:
    assert shipped_lab("05").nodetool == nodetool_choice.LEGACY
    assert shipped_lab("01").nodetool == nodetool_choice.NATIVE


def test_the_setting_wins_over_the_lab(tmp_path: Path) -> None:
    lab = shipped_lab("05")
    assert nodetool_choice.for_lab(settings(tmp_path), lab) == "3.11"
    assert nodetool_choice.for_lab(settings(tmp_path, DSELAB_NODETOOL="native"), lab) == "native"


def test_a_container_runs_its_images_nodetool_whatever_the_lab_or_setting(tmp_path: Path) -> None:
    docker = settings(tmp_path, DSELAB_RUNTIME="docker")
    store = StateStore(tmp_path / "state.sqlite")
    store.set_student_nodetool("3.11")
    assert nodetool_choice.for_lab(docker, shipped_lab("05")) == "native"
    assert nodetool_choice.chosen(docker, store) == "native"
    assert nodetool_choice.chosen(settings(tmp_path, DSELAB_RUNTIME="docker", DSELAB_NODETOOL="3.11"), store) == "native"
    assert nodetool_choice.chosen_here(settings(tmp_path, DSELAB_RUNTIME="docker", DSELAB_NODETOOL="3.11")) == "native"


def test_the_scripts_follow_the_lab_started_last(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    assert nodetool_choice.chosen(settings(tmp_path), store) == "native"  # nothing started yet
    store.set_student_nodetool("3.11")
    assert nodetool_choice.chosen(settings(tmp_path), store) == "3.11"
    assert nodetool_choice.chosen(settings(tmp_path, DSELAB_NODETOOL="native"), store) == "native"
    store.forget_everything()
    assert nodetool_choice.chosen(settings(tmp_path), store) == "native"


def test_chosen_here_reads_the_runtimes_store_and_an_unreadable_one_means_native(tmp_path: Path) -> None:
    config = settings(tmp_path)
    StateStore.for_runtime("local", config).set_student_nodetool("3.11")
    assert nodetool_choice.chosen_here(config) == "3.11"
    elsewhere = settings(tmp_path, DSELAB_STATE_DIR=str(tmp_path / "none-here"))
    assert nodetool_choice.chosen_here(elsewhere) == "native"
    assert not (tmp_path / "none-here").exists()  # nothing made where no store is
    broken = settings(tmp_path, DSELAB_STATE_DIR=str(tmp_path / "broken"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state-local.sqlite").write_text("not a database")
    assert nodetool_choice.chosen_here(broken) == "native"


def test_a_lab_naming_another_nodetool_is_a_content_error(tmp_path: Path) -> None:
    lab = tmp_path / "labs" / "07-odd"
    (lab / "steps").mkdir(parents=True)
    (lab / "lab.yaml").write_text("title: X\nnodetool: '4.0'\nsteps:\n  - page: steps/01-a.md\n")
    (lab / "steps" / "01-a.md").write_text("---\nid: a\ntitle: A\nsolution: []\n---\nbody\n")
    with pytest.raises(ContentError) as err:
        Catalogue.load((tmp_path,))
    assert "nodetool: '4.0' is not one of 3.11, native" in err.value.message


@pytest.mark.parametrize("version, client, nodetool, client_legacy", [
    ("5.0.9", "3.11", "3.11", True),  # the module's nodetool against 5.0 nodes
    ("5.0.9", "native", "5.0.9", False),
    ("3.11.19", "native", "3.11", True),  # DSE 5.1 nodes: their own nodetool is 3.11's
])
def test_pages_see_the_nodetool_in_use(version: str, client: str, nodetool: str, client_legacy: bool) -> None:
    variables = version_vars(version, "local", client)
    assert (variables["nodetool"], variables["client_legacy"]) == (nodetool, client_legacy)
    assert variables["legacy"] is version.startswith("3.")
