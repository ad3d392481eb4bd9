"""Persistent shells on real PTYs: output is kept while no page follows, and replayed when one attaches."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dselab.classroom.web.terminal import ShellSpec, TerminalRegistry, TerminalSession
from dselab.errors import EnvironmentProblem, UsageError


@pytest.fixture
def registry(shells: dict[str, ShellSpec]) -> Iterator[TerminalRegistry]:
    terminals = TerminalRegistry(lambda seat: shells[seat])
    yield terminals
    terminals.close()


def read_until(session: TerminalSession, offset: int, wanted: bytes, timeout: float = 10) -> tuple[bytes, int]:
    """Follow the output from `offset` until `wanted` shows up; everything read and the new offset."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        assert time.monotonic() < deadline, f"{wanted!r} not seen in {seen[-500:]!r}"
        data, offset = session.read_after(offset, 0.5)
        seen += data
    return seen, offset


def test_typed_command_runs_and_its_output_comes_back(registry: TerminalRegistry) -> None:
    session = registry.session("alice")
    _, offset = session.replay()
    session.write(b"echo hi-from-$((40+2))\n")
    read_until(session, offset, b"hi-from-42")


def test_detached_command_keeps_running_and_reattach_replays_its_output(registry: TerminalRegistry) -> None:
    session = registry.session("alice")
    with session.following():
        _, offset = session.replay()
        session.write(b"sleep 2; echo done-$((1+1))\n")
    assert session.attached == 0
    time.sleep(3)  # nobody follows the shell while the command finishes
    again = registry.session("alice")
    assert again is session, "re-attaching finds the same shell"
    replay, _ = again.replay()
    assert b"done-2" in replay


def test_each_seat_has_its_own_shell(registry: TerminalRegistry) -> None:
    alice, bob = registry.session("alice"), registry.session("bob")
    assert alice.process.pid != bob.process.pid
    _, offset = bob.replay()
    alice.write(b"echo only-alice\n")
    read_until(alice, 0, b"only-alice")
    data, _ = bob.read_after(offset, 0.5)
    assert b"only-alice" not in data
    assert registry.running("carol") is None


def test_an_exited_shell_is_replaced_on_the_next_attach(registry: TerminalRegistry) -> None:
    first = registry.session("alice")
    first.write(b"exit\n")
    deadline = time.monotonic() + 10
    while not first.ended:
        assert time.monotonic() < deadline, "the shell did not end"
        time.sleep(0.1)
    assert registry.running("alice") is None
    second = registry.session("alice")
    assert second is not first and second.alive


def test_resize_reaches_the_shell(registry: TerminalRegistry) -> None:
    session = registry.session("alice")
    session.resize(40, 132)
    _, offset = session.replay()
    session.write(b"stty size\n")
    read_until(session, offset, b"40 132")
    with pytest.raises(UsageError, match="out of range"):
        session.resize(0, 5000)


def test_scrollback_is_bounded_and_replay_starts_at_a_line(shells: dict[str, ShellSpec]) -> None:
    terminals = TerminalRegistry(lambda seat: shells[seat], scrollback=4096)
    try:
        session = terminals.session("alice")
        session.write(b"for i in $(seq 1 2000); do echo line-$i; done; echo finished\n")
        read_until(session, 0, b"\nfinished")
        replay, _ = session.replay()
        assert len(replay) <= 4096
        assert replay.startswith(b"line-") and b"line-2000" in replay and b"line-1\r\n" not in replay
    finally:
        terminals.close()


def test_close_ends_every_shell(shells: dict[str, ShellSpec]) -> None:
    terminals = TerminalRegistry(lambda seat: shells[seat])
    session = terminals.session("alice")
    pid = session.process.pid
    terminals.close()
    assert not session.alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_shell_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    spec = ShellSpec(("/nonexistent/shell",), tmp_path, {})
    with pytest.raises(EnvironmentProblem, match="cannot start the terminal's shell /nonexistent/shell"):
        TerminalSession(spec)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the shell as another user: needs root, as a classroom server does")
def test_a_seat_shaped_shell_runs_as_another_user_with_only_its_own_environment(tmp_path: Path) -> None:
    """The seats' command form (runuser ... env -i ... bash) works on a PTY, job control included."""
    tmp_path.chmod(0o755)
    spec = ShellSpec(("runuser", "-u", "nobody", "--", "env", "-i", "PATH=/usr/bin:/bin", "TERM=xterm-256color",
                      "HOME=/nonexistent", "PS1=seat$ ", "bash", "--norc", "--noprofile", "-i"),
                     tmp_path, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SERVER_SECRET": "kept out"})
    session = TerminalSession(spec)
    try:
        session.write(b'echo "$(id -un) [${SERVER_SECRET:-none}]"; sleep 30 & jobs; kill %1\n')
        seen, _ = read_until(session, 0, b"nobody [none]")
        seen += read_until(session, 0, b"Running")[0]
        assert b"no job control" not in seen
    finally:
        session.close()
