"""Shared by the classroom tests: seats whose terminal is a plain bash in a temp folder (no seat users)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from lab_server import SEATS as LAB_SEATS
from lab_server import lab_app

from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.classroom.web.server import create_classroom_app, make_classroom_server
from dselab.classroom.web.terminal import ShellSpec
from threaded_server import serving

COURSE_KEY = b"test course key 0123456789abcdef"
SEATS = ("alice", "bob")
LINKS = LinkState.new((*SEATS, "carol"))  # carol has a link but no seat on the server (a removed seat)


@pytest.fixture(autouse=True)
def no_shared_seat_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """A classroom's own template unless a test says otherwise: neither a developer's shell nor the
    integration tests' conftest (same session under `pytest tests`) decides it for these tests."""
    monkeypatch.delenv("DSELAB_CLASSROOM_TEMPLATES", raising=False)


def plain_bash(folder: Path) -> ShellSpec:
    """An interactive bash as the current user in `folder`, with a fixed prompt and no rc files."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color", "HOME": str(folder),
           "PS1": "$ ", "LANG": "C.UTF-8"}
    return ShellSpec(("bash", "--norc", "--noprofile", "-i"), folder, env)


@pytest.fixture
def shells(tmp_path: Path) -> dict[str, ShellSpec]:
    return {seat: plain_bash(tmp_path) for seat in SEATS}


@pytest.fixture
def auth() -> ClassroomAuth:
    return ClassroomAuth(COURSE_KEY, LINKS)


@pytest.fixture
def classroom_app(shells: dict[str, ShellSpec], auth: ClassroomAuth) -> Iterator[Flask]:
    app = create_classroom_app(shells, auth)
    yield app
    app.extensions["dselab_terminals"].close()


@pytest.fixture
def classroom_url(shells: dict[str, ShellSpec], auth: ClassroomAuth) -> Iterator[str]:
    """The classroom server on a free loopback port, in a thread; its shells end with it."""
    with serving(make_classroom_server("127.0.0.1", 0, shells, auth)) as url:
        yield url


@pytest.fixture
def lab_shells(tmp_path: Path) -> dict[str, ShellSpec]:
    """Plain-bash terminals for the seats the lab-serving tests register (lab_server.SEATS)."""
    return {seat: plain_bash(tmp_path) for seat in LAB_SEATS}


@pytest.fixture
def app(layout, lab_shells: dict[str, ShellSpec]) -> Iterator[Flask]:
    """The classroom app serving lab 05 over the test module's own `layout` fixture."""
    app = lab_app(layout, lab_shells)
    yield app
    app.extensions["dselab_terminals"].close()
