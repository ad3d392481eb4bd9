"""The observer reads the seat's own store as hostile input: bounded in size, time and value length,
no link followed, no FIFO waited on; a poisoned store yields no answers, never a hang or a blow-up."""

from __future__ import annotations

import os
import resource
import sqlite3
import time
from pathlib import Path

import pytest

from dselab.classroom.seat_answers import MAX_STORE_BYTES, seat_answers
from dselab.state import StateStore, answer_prefix

LAB = "05-backup-restore"
KEY = answer_prefix(LAB) + "list"  # for hand-made hostile stores


def _store(path: Path, value: str = "143.08 KiB") -> Path:
    store = StateStore(path)
    store.set_answer(LAB, "list", value)
    store.close()
    return path


def test_a_real_store_gives_its_answers(tmp_path: Path) -> None:
    path = _store(tmp_path / "state-local.sqlite")
    assert seat_answers(path, LAB, ["list"]) == {"list": "143.08 KiB"}
    assert seat_answers(path, LAB, ["other"]) == {}  # only the steps asked


def test_a_link_a_fifo_a_missing_or_oversized_file_give_nothing(tmp_path: Path) -> None:
    real = _store(tmp_path / "real.sqlite")
    (tmp_path / "link.sqlite").symlink_to(real)
    assert seat_answers(tmp_path / "link.sqlite", LAB, ["list"]) == {}
    os.mkfifo(tmp_path / "fifo.sqlite")
    assert seat_answers(tmp_path / "fifo.sqlite", LAB, ["list"]) == {}  # returns at once: no writer awaited
    assert seat_answers(tmp_path / "missing.sqlite", LAB, ["list"]) == {}
    big = tmp_path / "big.sqlite"
    with big.open("wb") as fh:
        fh.truncate(MAX_STORE_BYTES + 1)  # sparse: nothing is read
    assert seat_answers(big, LAB, ["list"]) == {}
    (tmp_path / "text.sqlite").write_text("not a database")
    assert seat_answers(tmp_path / "text.sqlite", LAB, ["list"]) == {}


def _poisoned(path: Path, kv_sql: str) -> Path:
    db = sqlite3.connect(path)
    db.executescript(kv_sql)
    db.commit()
    db.close()
    return path


def test_an_endless_recursive_view_stops_within_the_budget(tmp_path: Path) -> None:
    path = _poisoned(tmp_path / "loop.sqlite", """
        CREATE TABLE real_kv (key TEXT, value TEXT);
        CREATE VIEW kv AS WITH RECURSIVE r(key, value) AS (SELECT 'lab:05-backup-restore:answer:list', '"x"'
            UNION ALL SELECT key, value FROM r) SELECT key, value FROM r;""")
    started = time.monotonic()
    assert seat_answers(path, LAB, ["list"]) == {}  # `kv` is no table: refused before any query
    assert time.monotonic() - started < 2


def test_a_generated_gigabyte_value_is_refused_at_once(tmp_path: Path) -> None:
    # printf('%.*c', 1e9, 'x') runs for half a minute inside one SQLite call: the column is never read
    path = _poisoned(tmp_path / "huge.sqlite", f"""
        CREATE TABLE kv (key TEXT PRIMARY KEY, n INT, value TEXT GENERATED ALWAYS AS (printf('%.*c', n, 'x')));
        INSERT INTO kv (key, n) VALUES ('{KEY}', 1);
        PRAGMA writable_schema = ON;  -- a student edits the file; SQLite itself would compute on INSERT
        UPDATE sqlite_master SET sql = replace(sql, ', n,', ', n * 1000000000,') WHERE name = 'kv';""")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assert seat_answers(path, LAB, ["list"]) == {}
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: under 50 MiB more


def test_a_long_stored_value_is_cut_off_by_the_length_limit(tmp_path: Path) -> None:
    path = _store(tmp_path / "long.sqlite", "x" * 100_000)
    assert seat_answers(path, LAB, ["list"]) == {}


@pytest.mark.parametrize("value", ["42", "[1, 2]", "{\"a\": 1}", "not json"])
def test_values_that_are_not_strings_are_ignored(tmp_path: Path, value: str) -> None:
    path = _poisoned(tmp_path / "odd.sqlite", f"""
        CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO kv VALUES ('{KEY}', '{value.replace("'", "''")}');""")
    assert seat_answers(path, LAB, ["list"]) == {}
