"""`dselab classroom serve` refuses to start when the page terminal's front end (the vendored
xterm.js that `make frontend` copies) is missing: exit 2, one line naming the files and the fix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dselab import resources
from dselab.classroom.layout import ROOT_ENV
from dselab.settings import CONTENT

CHECKOUT = Path(__file__).resolve().parents[3]


def _content_without_frontend(tmp_path: Path) -> Path:
    """A content tree like the checkout's, its site/ copied without site/static/vendor."""
    content = tmp_path / "content"
    content.mkdir()
    for name in ("labs", "checks", "scripts"):
        (content / name).symlink_to(CHECKOUT / name)
    shutil.copytree(CHECKOUT / "site", content / "site", ignore=shutil.ignore_patterns("vendor"))
    return content


def test_serve_without_the_vendored_terminal_exits_2_with_one_line_and_the_fix(tmp_path: Path) -> None:
    content = _content_without_frontend(tmp_path)
    env = {**os.environ, CONTENT: str(content), ROOT_ENV: str(tmp_path / "room")}
    proc = subprocess.run([sys.executable, "-m", "dselab", "classroom", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60, cwd="/")
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "xterm.js" in lines[0] and "addon-fit.js" in lines[0] and "make frontend" in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "room").exists()  # refused before anything was made


def test_missing_frontend_names_only_what_is_missing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    content = _content_without_frontend(tmp_path)
    monkeypatch.setenv(CONTENT, str(content))
    vendor = content / "site" / "static" / "vendor" / "xterm"
    vendor.mkdir(parents=True)
    (vendor / "xterm.css").write_text("")
    missing = [p.name for p in resources.missing_frontend()]
    assert missing == ["xterm.js", "addon-fit.js"]
    for name in ("xterm.js", "addon-fit.js"):
        (vendor / name).write_text("")
    assert resources.missing_frontend() == []
