"""Seat users: a Unix user per seat, named deterministically from the student id.

Student ids allow upper case and dots, Linux user names should not and stop at 32 characters,
so an id that is not already a safe name gets a readable part plus 8 hex of its SHA-256.
"""

from __future__ import annotations

import hashlib
import pwd
import re
import subprocess
import threading
from pathlib import Path

from dselab.errors import EnvironmentProblem

PREFIX = "dsl-"
COMMENT = "dselab classroom seat"  # marks users we created: never touch a user without it
MAX_NAME = 32
_ACCOUNTS = threading.Lock()  # useradd/userdel lock /etc/passwd: seats starting together take turns
_PLAIN = re.compile(r"[a-z0-9][a-z0-9_-]{0,22}")  # fits PREFIX + 23 < 32 with room to spare


def user_name(student_id: str) -> str:
    """dsl-<id> for plain lower-case ids; otherwise dsl-<cleaned id, 16 chars>-<8 hex of the id>."""
    if _PLAIN.fullmatch(student_id):
        return PREFIX + student_id
    cleaned = re.sub(r"[^a-z0-9_-]", "-", student_id.lower()).strip("-")[:16] or "seat"
    digest = hashlib.sha256(student_id.encode()).hexdigest()[:8]
    name = f"{PREFIX}{cleaned}-{digest}"
    assert len(name) <= MAX_NAME
    return name


def lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def is_seat_user(name: str) -> bool:
    entry = lookup(name)
    return entry is not None and entry.pw_gecos == COMMENT


def check_free(name: str) -> None:
    """Refuse a name that belongs to someone else (a user we did not create)."""
    if lookup(name) is not None and not is_seat_user(name):
        raise EnvironmentProblem(f"user {name} exists and is not a dselab seat; refusing to use it",
                                 fix="remove that user or rename the student in the roster")


def create(name: str, home: Path) -> pwd.struct_passwd:
    """A locked-password user with its own group and `home` (made by the caller)."""
    with _ACCOUNTS:
        if lookup(name) is None:
            _run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                  "--user-group", "--comment", COMMENT, name])
    entry = lookup(name)
    assert entry is not None
    return entry


def remove(name: str) -> None:
    with _ACCOUNTS:
        if is_seat_user(name):
            _run(["userdel", name])


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise EnvironmentProblem(f"`{' '.join(argv)}` failed: {detail[0]}")
