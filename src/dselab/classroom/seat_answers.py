"""Answers a student gave in the seat's shell (`./scripts/answer.sh`), read by the observer from
the seat's own store: a SQLite file the student controls, schema and all.

So the file is read like any hostile input: no link followed, a regular file of at most
MAX_STORE_BYTES, deserialized into memory (never opened in place), and `kv` must be exactly the
table dselab creates: a view could recurse for ever and a generated column computes on every read
(`printf('%.*c', 1e9, 'x')` runs for half a minute inside one SQLite call, where no progress
handler reaches it). Queries stop after QUERY_BUDGET_S, and no value may exceed MAX_VALUE_BYTES.
Only values that look like an answer come out; anything odd means "no answers from this seat".
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path

from dselab.state import SCHEMA, answer_prefix

MAX_STORE_BYTES = 16 << 20
MAX_VALUE_BYTES = 4096
QUERY_BUDGET_S = 1.0


def read_bytes(path: Path, limit: int) -> bytes | None:
    """A regular file's bytes (no link followed, never blocking on a FIFO), or None past `limit`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def _words(sql: object) -> str:
    return " ".join(str(sql).replace("IF NOT EXISTS ", "").split()).rstrip(";")


KV_TABLE = _words(next(s for s in SCHEMA.split(";") if "TABLE IF NOT EXISTS kv " in s))


def _bounded_connection(data: bytes) -> sqlite3.Connection | None:
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(data)
        db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        db.execute("PRAGMA trusted_schema = OFF")
        deadline = time.monotonic() + QUERY_BUDGET_S
        db.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
        found = db.execute("SELECT type, sql FROM sqlite_master WHERE name = 'kv'").fetchone()
        if not found or found[0] != "table" or _words(found[1]) != KV_TABLE:
            db.close()
            return None
        return db
    except sqlite3.Error:
        db.close()
        return None


def seat_answers(store_file: Path, lab_id: str, step_ids: list[str]) -> dict[str, str]:
    """step id -> the answer string the seat's store holds for it (only well-formed ones)."""
    data = read_bytes(store_file, MAX_STORE_BYTES)
    if data is None:
        return {}
    db = _bounded_connection(data)
    if db is None:
        return {}
    prefix = answer_prefix(lab_id)
    try:
        rows = db.execute("SELECT key, value FROM kv WHERE substr(key, 1, ?) = ? LIMIT 200",
                          (len(prefix), prefix)).fetchall()
    except sqlite3.Error:  # interrupted, too long, not text: no answers from this store
        return {}
    finally:
        db.close()
    found: dict[str, str] = {}
    for key, raw in rows:
        if not (isinstance(key, str) and isinstance(raw, str)):
            continue
        step = key[len(prefix):]
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            continue
        if step in step_ids and isinstance(value, str):
            found[step] = value
    return found
