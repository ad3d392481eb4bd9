"""`dselab init DIR`: a lab folder whose scripts run the dselab that made it; never overwrites."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dselab import lab_folder
from dselab.cli import main
from dselab.errors import UsageError


def run_script(folder: Path, *argv: str, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "DSELAB_HOME": str(folder.parent / "home")}
    return subprocess.run(list(argv), cwd=folder, env=env, capture_output=True, text=True, timeout=60)


def test_init_writes_scripts_lab_data_and_a_readme(tmp_path: Path) -> None:
    folder = tmp_path / "course"
    written = lab_folder.init_folder(folder)
    names = {p.relative_to(folder).as_posix() for p in written}
    assert {"README.md", "scripts/nodetool.sh", "scripts/_dselab.sh",
            "labs/05-backup-restore/data/new-rows.cql"} <= names
    assert os.access(folder / "scripts" / "nodetool.sh", os.X_OK)
    launcher = (folder / "scripts" / "_dselab.sh").read_text()
    assert f"recorded_dselab={Path(sys.executable).parent / 'dselab'}" in launcher


def test_the_scripts_reach_the_recorded_dselab_without_it_on_path(tmp_path: Path) -> None:
    folder = tmp_path / "course"
    lab_folder.init_folder(folder)
    proc = run_script(folder, "./scripts/answer.sh", "05", "1", "x")
    assert proc.returncode == 2
    assert "step 1 (snapshot) takes no answer" in proc.stderr  # dselab itself answered


def test_a_folder_whose_dselab_is_gone_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "course"
    lab_folder.init_folder(folder)
    launcher = folder / "scripts" / "_dselab.sh"
    launcher.write_text(launcher.read_text().replace(str(Path(sys.executable).parent / "dselab"),
                                                     str(tmp_path / "gone" / "dselab")))
    proc = run_script(folder, "./scripts/nodetool.sh", "status")
    assert proc.returncode == 2 and "is gone: install dselab" in proc.stderr


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not empty"):
        lab_folder.init_folder(tmp_path / "full")
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UsageError, match="exists and is not a folder"):
        lab_folder.init_folder(tmp_path / "afile")
    (tmp_path / "empty").mkdir()
    assert lab_folder.init_folder(tmp_path / "empty")


def test_init_refuses_a_file_that_appeared_meanwhile(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "nodetool.sh").write_text("mine")
    files = lab_folder.folder_files([], Path("/x/dselab"))
    with pytest.raises(UsageError, match="nodetool.sh already exists; dselab init never overwrites"):
        lab_folder._write(tmp_path, files, overwrite=False)
    assert (tmp_path / "scripts" / "nodetool.sh").read_text() == "mine"


def test_the_cli_reports_a_non_empty_folder_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("dselab: error:") and "is not empty" in result.output
    assert "Traceback" not in result.output


def test_solve_types_in_a_working_folder_rewritten_for_this_installation(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path))
    folder = lab_folder.working_folder()
    assert folder == tmp_path / "lab-folder"
    assert (folder / "labs" / "05-backup-restore" / "data" / "new-rows.cql").is_file()
    assert os.access(folder / "scripts" / "cqlsh.sh", os.X_OK)
    assert not list(folder.rglob(".*.new"))


def test_messages_name_dselab_as_it_can_be_typed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    dselab = Path(sys.executable).parent / "dselab"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(dselab.parents[2])  # the checkout: .venv/bin/dselab
    assert lab_folder.typed_command() == str(dselab.relative_to(dselab.parents[2]))
    monkeypatch.chdir("/")
    assert lab_folder.typed_command() == str(dselab)
    monkeypatch.setenv("PATH", str(dselab.parent))
    assert lab_folder.typed_command() == "dselab"
