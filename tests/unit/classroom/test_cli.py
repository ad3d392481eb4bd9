"""The classroom CLI in real processes: refusals are one line, exit 2, and create nothing; `links`
prints, rotates and stamps join links."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dselab.classroom.layout import ROOT_ENV, Layout
from dselab.classroom.web import links
from dselab.classroom.web.auth import ClassroomAuth

NOBODY = 65534


def _dselab(args: list[str], root: Path, as_nobody: bool = False) -> subprocess.CompletedProcess[str]:
    """`dselab ARGS` in a fresh process; as_nobody drops to uid 65534 before the command runs (the
    modules are loaded first: this interpreter's own files may be closed to that user)."""
    preload = "import sys, os; from dselab.cli import main; import dselab.classroom.lifecycle, dselab.classroom.roster; "
    drop = f"os.setgid({NOBODY}); os.setuid({NOBODY}); " if as_nobody else ""
    code = f"{preload}{drop}sys.argv[0] = 'dselab'; main({args!r})"
    env = {**os.environ, ROOT_ENV: str(root)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                          cwd="/")


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dselab: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")
def test_a_user_who_is_not_root_is_refused_with_the_reason(tmp_path: Path) -> None:
    proc = _dselab(["classroom", "up", "--seats", "1"], tmp_path / "room", as_nobody=True)
    _one_line_error(proc, "must run as root", "a Unix user and a network namespace per seat")
    assert not (tmp_path / "room").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_bad_roster_lines_are_all_reported_before_anything_is_created(tmp_path: Path) -> None:
    roster = tmp_path / "class.txt"
    roster.write_text("alice\nno spaces allowed\nalice\n")
    proc = _dselab(["classroom", "up", "--roster", str(roster)], tmp_path / "room")
    _one_line_error(proc, "line 2:", "line 3: duplicate id 'alice'")
    assert not (tmp_path / "room").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_missing_key_file_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    proc = _dselab(["classroom", "up", "--seats", "1", "--key-file", str(tmp_path / "nope.key")], tmp_path / "room")
    _one_line_error(proc, "cannot read key file")
    assert not (tmp_path / "room").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
@pytest.mark.parametrize("args", [["check", "ghost", "05", "1"], ["exec", "ghost", "--", "true"], ["reset", "ghost"]])
def test_unknown_seat_is_one_line(tmp_path: Path, args: list[str]) -> None:
    proc = _dselab(["classroom", *args], tmp_path / "room")
    _one_line_error(proc, "unknown seat 'ghost'")


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_gradebook_without_any_course_key_is_refused(tmp_path: Path) -> None:
    proc = _dselab(["classroom", "gradebook", "--out", str(tmp_path / "book.csv")], tmp_path / "room")
    _one_line_error(proc, "no course key")


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_more_seats_than_memory_allows_says_how_many_fit_and_creates_nothing(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_SEAT_MEMORY_MB", str(1 << 40))  # no host holds a seat this large
    proc = _dselab(["classroom", "up", "--seats", "3"], tmp_path / "room")
    _one_line_error(proc, "3 seat(s) need about", "this host holds 0 more seat(s) now")
    assert not (tmp_path / "room").exists()


def test_serve_wants_certfile_and_keyfile_together(tmp_path: Path) -> None:
    proc = _dselab(["classroom", "serve", "--certfile", str(tmp_path / "c.pem")], tmp_path / "room")
    _one_line_error(proc, "--certfile and --keyfile together")


def test_down_templates_without_purge_is_refused(tmp_path: Path) -> None:
    proc = _dselab(["classroom", "down", "--templates"], tmp_path / "room")
    _one_line_error(proc, "--templates goes with --purge")
    assert not (tmp_path / "room").exists()


def test_serve_without_seats_says_to_bring_them_up(tmp_path: Path) -> None:
    proc = _dselab(["classroom", "serve", "--port", "0"], tmp_path / "room")
    _one_line_error(proc, "no seats", "classroom up")


def _room_with_links(root: Path) -> Layout:
    from lab_server import COURSE_KEY, registered_layout

    layout = registered_layout(root, ("alice", "bob"))
    layout.key_file.write_bytes(COURSE_KEY + b"\n")
    return layout


def _printed_links(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\S+) +(\S+/join/\S+)$", stdout, re.MULTILINE))


def _auth(layout: Layout) -> ClassroomAuth:
    from lab_server import COURSE_KEY

    state = links.read(layout.links_file)
    assert state is not None
    return ClassroomAuth(COURSE_KEY, state)


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_links_prints_each_seats_join_link_from_the_course_key(tmp_path: Path) -> None:
    layout = _room_with_links(tmp_path / "room")
    proc = _dselab(["classroom", "links", "--url", "https://class.example/"], layout.root)
    assert proc.returncode == 0, proc.stderr
    auth = _auth(layout)
    assert _printed_links(proc.stdout) == {seat: f"https://class.example/join/{auth.join_token(seat)}"
                                           for seat in ("alice", "bob")}
    assert auth.instructor_token() not in proc.stdout
    assert oct(layout.links_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_links_rotate_gives_one_seat_a_new_link_and_leaves_the_others(tmp_path: Path) -> None:
    layout = _room_with_links(tmp_path / "room")
    before = _printed_links(_dselab(["classroom", "links"], layout.root).stdout)
    proc = _dselab(["classroom", "links", "--rotate", "alice"], layout.root)
    assert proc.returncode == 0, proc.stderr
    assert "rotated: alice" in proc.stderr
    rotated = _printed_links(proc.stdout)
    assert list(rotated) == ["alice"] and rotated["alice"] != before["alice"]
    assert _printed_links(_dselab(["classroom", "links"], layout.root).stdout) == {**before, **rotated}


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_links_expires_stamps_the_links_and_says_how_to_issue_fresh_ones(tmp_path: Path) -> None:
    layout = _room_with_links(tmp_path / "room")
    started = int(time.time())
    proc = _dselab(["classroom", "links", "bob", "--expires", "8h"], layout.root)
    assert proc.returncode == 0, proc.stderr
    printed = _printed_links(proc.stdout)
    assert list(printed) == ["bob"]
    expires_at = ClassroomAuth.token_expiry(printed["bob"].rsplit("/", 1)[1])
    assert expires_at is not None and started + 8 * 3600 <= expires_at <= int(time.time()) + 8 * 3600
    assert "These links open seats until" in proc.stdout and "--expires 8h` issues fresh ones" in proc.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
@pytest.mark.parametrize(("args", "needles"), [
    (["--expires", "2001-01-01T00:00"], ("not in the future", "--expires 8h")),
    (["--expires", "soon"], ("neither a duration nor a time",)),
    (["--rotate", "ghost"], ("unknown seat 'ghost'",)),
])
def test_links_refusals_are_one_line_and_change_nothing(tmp_path: Path, args: list[str],
                                                        needles: tuple[str, ...]) -> None:
    layout = _room_with_links(tmp_path / "room")
    _one_line_error(_dselab(["classroom", "links", *args], layout.root), *needles)
    assert not layout.links_file.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the classroom runs as root")
def test_rotate_instructor_prints_only_the_new_instructor_link(tmp_path: Path) -> None:
    layout = _room_with_links(tmp_path / "room")
    links.ensure(layout, ("alice", "bob"))
    old = _auth(layout).instructor_token()
    proc = _dselab(["classroom", "links", "--rotate-instructor"], layout.root)
    assert proc.returncode == 0, proc.stderr
    new = _auth(layout).instructor_token()
    assert new != old and proc.stdout.strip() == f"Instructor (keep it to yourself): http://localhost:8055/instructor/login/{new}"


def test_plain_http_beyond_loopback_is_warned_about_unless_tls() -> None:
    from dselab.classroom.web.serving import plain_http_warning

    assert "plain HTTP" in (plain_http_warning("0.0.0.0", tls=False) or "")
    assert plain_http_warning("0.0.0.0", tls=True) is None
    assert plain_http_warning("127.0.0.1", tls=False) is None
