"""The state store's typed records: one lab run's baseline, answers, facts and attempts, each kept
apart, and "passed in this run" answered in one place."""

from __future__ import annotations

from pathlib import Path

from dselab.outcomes import CheckStatus
from dselab.state import StateStore, answer_prefix

LAB = "05-backup-restore"


def test_passed_in_this_run_counts_only_attempts_since_the_baseline(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.sqlite")
    store.record_attempt(LAB, "snapshot", CheckStatus.PASS, "before any run", [], at=5.0)
    assert store.passed_steps(LAB) == {"snapshot"}  # never started: every attempt counts
    store.start_run(LAB, {"started_at": 10.0, "log_marks": {}})
    assert store.passed_steps(LAB) == set() and store.attempts(LAB) == []  # a fresh run forgets the last
    store.record_attempt(LAB, "list", CheckStatus.FAIL, "no", [], at=11.0)
    store.record_attempt(LAB, "snapshot", CheckStatus.PASS, "a clock set back", [], at=9.0)
    store.record_attempt(LAB, "list", CheckStatus.PASS, "yes", [{"e": 1}], at=12.0)
    assert store.passed_steps(LAB) == {"list"}
    assert [a["message"] for a in store.attempts(LAB, "list")] == ["no", "yes"]
    assert [a["at"] for a in store.attempt_summaries(LAB)] == [11.0, 12.0]
    assert len(store.attempts(LAB, since=0)) == 3
    assert store.run_started_at(LAB) == 10.0 and store.run_started_at("other") == 0.0


def test_answers_seat_answers_and_facts_never_meet(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.sqlite")
    store.start_run(LAB, {"started_at": 1.0, "log_marks": {"dse-seed": 3}})
    store.set_answer(LAB, "list", "1 KiB")
    store.set_seat_answer(LAB, "list", "2 KiB")
    store.set_fact(LAB, "baseline", {"forged": True})  # a fact of that name is still only a fact
    store.set_fact(LAB, "write_times", [1, 2])
    assert store.answer(LAB, "list") == "1 KiB" and store.seat_answer(LAB, "list") == "2 KiB"
    assert store.baseline(LAB) == {"started_at": 1.0, "log_marks": {"dse-seed": 3}}
    assert store.facts(LAB) == {"baseline": {"forged": True}, "write_times": [1, 2]}
    assert store.fact(LAB, "missing", "default") == "default"
    assert answer_prefix(LAB) == "lab:05-backup-restore:answer:"  # what a seat's own store file holds


def test_a_new_run_clears_one_lab_and_forgetting_clears_all(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.sqlite")
    for lab in (LAB, "99-example"):
        store.set_answer(lab, "q", "x")
        store.set_fact(lab, "f", 1)
        store.record_attempt(lab, "q", CheckStatus.PASS, "", [])
    store.set_environment({"loaded_at": 1.0})
    store.start_run(LAB, {"started_at": 0.0, "log_marks": {}})
    assert store.answer(LAB, "q") is None and store.facts(LAB) == {} and store.attempts(LAB) == []
    assert store.answer("99-example", "q") == "x" and store.passed_steps("99-example") == {"q"}
    assert store.environment() == {"loaded_at": 1.0}
    store.forget_everything()
    assert store.environment() is None and store.attempts("99-example") == [] and store.baseline(LAB) is None


def test_an_older_store_gains_the_hint_column_and_attempts_keep_their_hint(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, lab TEXT NOT NULL, step TEXT NOT NULL,"
                     " status TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL, source TEXT NOT NULL,"
                     " evidence TEXT NOT NULL);"
                     "INSERT INTO attempts (lab, step, status, message, at, source, evidence)"
                     " VALUES ('05', 'snapshot', 'fail', 'old', 1.0, 'cli', '[]');")
    db.commit()
    db.close()
    store = StateStore(path)
    store.record_attempt("05", "snapshot", "fail", "new", [], at=2.0, hint="run nodetool snapshot")
    kept = [(a["message"], a["hint"]) for a in store.attempts("05", since=0)]
    assert kept == [("old", ""), ("new", "run nodetool snapshot")]
    assert store.last_messages("05") == {"snapshot": "new"}
    StateStore(path).close()  # opening it again changes nothing
