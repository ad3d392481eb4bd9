"""The observer's entry point, as the server runs it (a process reading one JSON request): it checks
on a store in memory seeded from the request, takes new answers from the seat's own store, and
prints one JSON answer; it writes nothing the server keeps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dselab import paths
from dselab.state import StateStore

LAB = "05-backup-restore"


def observe(home: Path, request: Any) -> tuple[int, Any]:
    env = {"PATH": os.environ["PATH"], "DSELAB_HOME": str(home), "DSELAB_LOOPBACK": "127.0.93",
           "DSELAB_JMX_BASE": "9955", "HOME": str(home.parent), "DSELAB_CACHE": str(paths.cache())}
    proc = subprocess.run([sys.executable, "-I", "-m", "dselab.classroom.observer"], input=json.dumps(request),
                          capture_output=True, text=True, env=env, timeout=120)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def _request(**extra: Any) -> dict[str, Any]:
    return {"op": "check", "lab": LAB, "steps": ["list"], "source": "classroom",
            "baseline": {"started_at": 1.0, "log_marks": {}}, "facts": {}, "attempts": [], **extra}


def test_a_check_without_an_answer_fails_and_keeps_nothing(tmp_path: Path) -> None:
    tmp_path = tmp_path / "seat"
    tmp_path.mkdir()
    code, out = observe(tmp_path, _request())
    assert code == 0
    [result] = out["results"]
    assert result["id"] == "list" and result["status"] == "fail" and "no answer yet" in result["message"]
    assert out["seat_answers"] == {} and out["facts"] == {}
    assert list(tmp_path.iterdir()) == []  # no store file, nothing written in the seat's home


def test_a_new_answer_from_the_seats_store_is_judged_and_reported(tmp_path: Path) -> None:
    seat_store = StateStore(tmp_path / "state-local.sqlite")
    seat_store.set_answer(LAB, "list", "143.08 KiB")
    seat_store.record_attempt(LAB, "list", "pass", "forged by the seat", [])  # ignored: not the server's
    seat_store.close()
    code, out = observe(tmp_path, _request())
    assert out["seat_answers"] == {"list": "143.08 KiB"}
    assert "no answer yet" not in out["results"][0]["message"]  # judged (the cluster is down here)
    code, again = observe(tmp_path, _request(seat_answers={"list": "143.08 KiB"}, answers={"list": "99 KiB"}))
    assert again["seat_answers"] == {}  # taken before: the server's answer stands


def test_bad_requests_get_one_line_errors(tmp_path: Path) -> None:
    assert observe(tmp_path, {"op": "shell"}) == (2, {"error": "observer: unknown operation 'shell'"})
    assert observe(tmp_path, ["check"])[0] == 2
    code, out = observe(tmp_path, _request(lab="99"))
    assert code == 2 and "99" in out["error"]
