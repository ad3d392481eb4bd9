"""Classroom trust (issue 16), each attack typed by a real seat user on real seats: mallory attacks,
victim works. What the seat tries and what must hold:

- the course key never reaches a seat, whatever its logs and pid file link to and however its JMX
  port stalls (the observer is its own unprivileged user: it cannot read the key at all);
- a poisoned seat store neither hangs a Check (5 s) nor grows the server (50 MiB);
- a symlink loop in a seat stops neither the grid's health, `classroom status` nor the gradebook;
- a 20 GiB sparse log and thousands of fake snapshot folders are read bounded, evidence capped;
- through all of it the victim's Check passes and its records are its own.

Runs as root (CI does); the room (trust_room in conftest) is shared with the other trust modules.
"""

from __future__ import annotations

import json
import os
import time

import psutil
import pytest
from trust_room import MALLORY, VICTIM, Room, as_seat, classroom

from dselab.catalogue import get_lab
from dselab.classroom.web.seat_session import SeatSession
from dselab.classroom.web.work import ClassroomWork

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="the classroom creates users and namespaces: root only")]

LAB = "05-backup-restore"
SNAPSHOT = ("./scripts/nodetool.sh listsnapshots | grep -q lab_backup || "
            "./scripts/nodetool.sh snapshot training -t lab_backup")
SEED = "$HOME/.dselab/clusters/lab/dse-seed"
JMX_STUB = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
held = []
while True:  # accept every connection, read the RMI handshake, answer nothing: the caller waits
    c, _ = s.accept(); c.recv(64); held.append(c)
"""


def check(seat: str, step: str, timeout: float = 600) -> tuple[dict, str, float]:
    started = time.monotonic()
    proc = classroom("check", seat, "05", step, "--json", timeout=timeout)
    seconds = time.monotonic() - started
    try:
        [result] = json.loads(proc.stdout)
    except (json.JSONDecodeError, ValueError):
        result = {"status": "none", "message": proc.stderr}
    return result, proc.stdout + proc.stderr, seconds


def victim_passes(room: Room) -> None:
    assert as_seat(VICTIM, SNAPSHOT).returncode == 0
    result, _, _ = check(VICTIM, "1")
    assert result["status"] == "pass", result


def test_the_course_key_never_reaches_a_seat_through_links_or_a_stalled_jmx_port(trust_room: Room) -> None:
    key = trust_room.layout.key_file.read_text().strip()
    assert len(key) >= 32
    assert as_seat(MALLORY, "dselab node stop dse-seed").returncode == 0
    plant = (f"cd {SEED} && for f in system debug output; do mv logs/$f.log logs/$f.log.mine 2>/dev/null; "
             f"ln -s {trust_room.layout.key_file} logs/$f.log; done && "
             f"printf '%s' '{JMX_STUB}' > /tmp/stub-$USER.py && "
             f"(nohup python3 /tmp/stub-$USER.py 7155 {SEED}/conf >/dev/null 2>&1 & echo $! > cassandra.pid) && sleep 1")
    planted = as_seat(MALLORY, plant)
    assert planted.returncode == 0, planted.stderr
    try:
        result, shown, seconds = check(MALLORY, "1")
        assert key not in shown and key[:16] not in shown
        # A stalled JMX port fails the call after the tools' 10 s RMI handshake (Java's default: 60 s).
        assert result["status"] in ("fail", "error") and seconds < 45, (result, seconds)
        for step in ("5", "2"):  # cleanup reads logs since the lab's mark; list reads the seat's store
            _, shown, _ = check(MALLORY, step)
            assert key not in shown
        store = trust_room.mallory.server_store()
        try:
            assert key not in json.dumps(store.attempts(LAB))  # nor in what the instructor's grid shows
        finally:
            store.close()
    finally:
        restore = (f"cd {SEED} && kill $(cat cassandra.pid); for f in system debug output; do rm -f logs/$f.log; "
                   "mv logs/$f.log.mine logs/$f.log 2>/dev/null; done; rm -f /tmp/stub-$USER.py; "
                   "dselab node start dse-seed")
        assert as_seat(MALLORY, restore, timeout=600).returncode == 0
    victim_passes(trust_room)


@pytest.mark.parametrize("poison", [
    "CREATE TABLE real_kv (key TEXT, value TEXT); CREATE VIEW kv AS WITH RECURSIVE r(key, value) AS "
    "(SELECT 'lab:05-backup-restore:answer:list', '\"1 KiB\"' UNION ALL SELECT key, value FROM r) SELECT * FROM r;",
    "CREATE TABLE kv (key TEXT PRIMARY KEY, n INT, value TEXT GENERATED ALWAYS AS (printf('%.*c', n, 'x'))); "
    "INSERT INTO kv (key, n) VALUES ('lab:05-backup-restore:answer:list', 1); PRAGMA writable_schema = ON; "
    "UPDATE sqlite_master SET sql = replace(sql, ', n,', ', n * 1000000000,') WHERE name = 'kv';",
    "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL); "
    "INSERT INTO kv VALUES ('lab:05-backup-restore:answer:list', '\"' || printf('%.*c', 50000000, 'x') || '\"');",
], ids=["recursive-view", "generated-gigabyte", "50-mb-value"])
def test_a_poisoned_seat_store_neither_hangs_a_check_nor_grows_the_server(trust_room: Room, poison: str) -> None:
    store = "$HOME/.dselab/state-local.sqlite"
    script = f"import sqlite3; db = sqlite3.connect('poison.sqlite'); db.executescript({poison!r}); db.commit()"
    made = as_seat(MALLORY, f"rm -f poison.sqlite && python -c {json.dumps(script)} && "
                            f"mv {store} {store}.mine; mv poison.sqlite {store}")
    assert made.returncode == 0, made.stderr
    session = SeatSession(ClassroomWork(trust_room.layout), MALLORY)
    lab = get_lab("05")
    server = psutil.Process()
    try:
        session.check(lab, lab.step("list"))  # warm: imports and caches of the first call
        before = server.memory_info().rss
        started = time.monotonic()
        result = session.check(lab, lab.step("list"))
        assert time.monotonic() - started < 5, result
        assert server.memory_info().rss - before < 50 << 20
        assert result["status"] == "fail" and "no answer yet" in result["message"]
    finally:
        assert as_seat(MALLORY, f"rm -f {store} && mv {store}.mine {store}").returncode == 0


def test_a_symlink_loop_stops_no_loop_over_seats(trust_room: Room, tmp_path) -> None:
    assert as_seat(MALLORY, "ln -s loop ~/.dselab/clusters/lab/loop && ln -s loop2 ~/.dselab/loop2 && "
                            "ln -s ~/.dselab/loop2 ~/.dselab/clusters/lab/dse-seed/data/loop2").returncode == 0
    try:
        status = classroom("status", "--json")
        assert status.returncode == 0, status.stderr
        assert {row["seat"] for row in json.loads(status.stdout)} == {MALLORY, VICTIM}
        health = ClassroomWork(trust_room.layout)._all_health()
        assert set(health) == {MALLORY, VICTIM} and health[VICTIM]["up"], health
        out = tmp_path / "gradebook.csv"
        book = classroom("gradebook", "--out", str(out), "--reports", str(tmp_path / "reports"))
        assert book.returncode == 0, book.stdout + book.stderr
        text = out.read_text()
        assert MALLORY in text and VICTIM in text, text
        assert "Traceback" not in book.stdout + book.stderr
    finally:
        as_seat(MALLORY, "rm -f ~/.dselab/clusters/lab/loop ~/.dselab/loop2 ~/.dselab/clusters/lab/dse-seed/data/loop2")


def test_a_sparse_20_gib_log_and_thousands_of_fake_snapshots_are_read_bounded(trust_room: Room) -> None:
    table = "$(ls -d ~/.dselab/clusters/lab/dse-seed/data/training/customers-*)"
    fake = (f"t={table} && for i in $(seq 3000); do mkdir -p $t/snapshots/fake_$i && "
            "echo '{\"files\": []}' > $t/snapshots/fake_$i/manifest.json; done && "
            f"cp {SEED}/logs/debug.log {SEED}/logs/debug.log.mine && truncate -s 20G {SEED}/logs/debug.log")
    assert as_seat(MALLORY, fake, timeout=600).returncode == 0
    try:
        for step in ("1", "5"):
            result, shown, seconds = check(MALLORY, step)
            assert result["status"] in ("pass", "fail"), result  # judged, not an error from a blown read
            assert seconds < 120, (step, seconds)
        store = trust_room.mallory.server_store()
        try:
            sizes = [len(json.dumps(a["evidence"])) for a in store.attempts(LAB)]
        finally:
            store.close()
        assert max(sizes) <= 64 << 10
    finally:
        as_seat(MALLORY, f"rm -rf {table}/snapshots/fake_* && mv {SEED}/logs/debug.log.mine {SEED}/logs/debug.log")
    victim_passes(trust_room)


def test_a_seat_can_read_the_class_template_but_never_change_it_nor_share_its_files(trust_room: Room) -> None:
    """The template every seat is copied from is the builder's: a seat that writes into it, plants a
    file beside it or takes its lock is refused; its own cluster holds copies, not the builder's inodes."""
    templates = trust_room.layout.templates
    data = sorted(templates.glob("*/nodes/dse-seed/data/training/*/*-Data.db"))
    assert data, "no class template was made"
    target = data[0]
    lock = next(templates.glob("*.lock"))
    tries = as_seat(MALLORY, f"echo mallory >> {target}; touch {templates}/evil; touch {target.parent}/evil; "
                             f"rm -f {target}; flock -x -n {lock} true && echo LOCKED")
    said = tries.stdout + tries.stderr
    assert said.count("Permission denied") >= 4 and "LOCKED" not in said, said  # nor stall the builder's lock
    assert b"mallory" not in target.read_bytes() and not (templates / "evil").exists()
    assert not (target.parent / "evil").exists() and target.exists()
    builder = target.stat().st_uid
    seat_files = list((trust_room.mallory.cluster_home / "clusters/lab/dse-seed/data/training").glob("*/*-Data.db"))
    assert seat_files and all(f.stat().st_uid != builder for f in seat_files)
    inodes = {f.stat().st_ino for f in data}
    assert not inodes & {f.stat().st_ino for f in seat_files}
