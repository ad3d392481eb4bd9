"""The server trusts nothing an observer prints: every field is validated, sizes are capped, names
come from the server's lab, and a malformed observation records nothing at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dselab.classroom import observation, recording
from dselab.classroom.observation import MAX_EVIDENCE_BYTES, MalformedObservation
from dselab.lab import Lab
from dselab.state import StateStore
from shipped_content import shipped_lab

LAB_ID = "05-backup-restore"


@pytest.fixture
def lab() -> Lab:
    return shipped_lab("05")


def _row(step: str = "snapshot", **extra: Any) -> dict[str, Any]:
    return {"id": step, "status": "fail", "message": "no snapshot", "hint": "take it", "seconds": 1.2,
            "evidence": [], "lab": "forged", "number": 99, "title": "forged", **extra}


def test_a_good_result_keeps_the_servers_names_not_the_observers(lab: Lab) -> None:
    [result] = observation.results(lab, [lab.step("snapshot")], {"results": [_row()]})
    assert (result.lab, result.number, result.title) == (LAB_ID, 1, lab.step("snapshot").title)
    assert (result.status, result.message, result.hint) == ("fail", "no snapshot", "take it")


@pytest.mark.parametrize("bad", [
    {"results": [_row("list")]},  # another step than asked
    {"results": [_row(status="passed")]},
    {"results": [_row(seconds=True)]},
    {"results": [_row(seconds=1e12)]},
    {"results": [_row(message=["a"])]},
    {"results": [_row(evidence={"a": 1})]},
    {"results": [_row(), _row()]},
    {"results": "pass"},
    [],
])
def test_malformed_results_are_refused(lab: Lab, bad: Any) -> None:
    with pytest.raises(MalformedObservation):
        observation.results(lab, [lab.step("snapshot")], bad)


def test_messages_become_one_capped_line_and_evidence_is_capped(lab: Lab) -> None:
    huge = [{"file": "x" * 1000, "n": i} for i in range(500)]
    [result] = observation.results(lab, [lab.step("snapshot")],
                                   {"results": [_row(message="line one\nline two " + "y" * 5000, evidence=huge)]})
    assert "\n" not in result.message and len(result.message) <= observation.MAX_TEXT
    assert len(json.dumps(result.evidence)) <= MAX_EVIDENCE_BYTES
    assert "truncated" in result.evidence[-1] and result.evidence[0] == huge[0]


@pytest.mark.parametrize("key", [f"lab:{LAB_ID}:baseline", "answer:list", "seat-answer:list", "../x", "Big", "",
                                 "x" * 65])
def test_a_fact_is_only_ever_a_named_fact(lab: Lab, key: str) -> None:
    """Facts are kept apart from the baseline and answers by the store itself: a name is all they get."""
    with pytest.raises(MalformedObservation, match="not a fact's name"):
        observation.facts(lab, {"facts": {key: 1}})


def test_facts_are_few_and_small(lab: Lab) -> None:
    assert observation.facts(lab, {"facts": {"snapshots_at_step1": ["a"]}})
    with pytest.raises(MalformedObservation, match="over"):
        observation.facts(lab, {"facts": {"big": "x" * 5000}})
    with pytest.raises(MalformedObservation, match="facts"):
        observation.facts(lab, {"facts": {f"f{i}": i for i in range(40)}})


@pytest.mark.parametrize("answers", [{"snapshot": "1 KiB"}, {"list": "x; rm -rf /"}, {"list": 5}, {"nope": "1"}])
def test_seat_answers_only_for_asking_steps_and_well_formed(lab: Lab, answers: dict[str, Any]) -> None:
    with pytest.raises(MalformedObservation):
        observation.seat_answers(lab, {"seat_answers": answers})


def test_baseline_ring_and_cluster_shapes() -> None:
    assert observation.baseline({"log_marks": {"dse-seed": 10}, "cassandra_version": "5.0.9"})["log_marks"] == {
        "dse-seed": 10}
    for bad in ({"log_marks": {"elsewhere": 1}, "cassandra_version": "5.0.9"},
                {"log_marks": {"dse-seed": -1}, "cassandra_version": "5.0.9"},
                {"log_marks": {}, "cassandra_version": "5.0.9; rm"}):
        with pytest.raises(MalformedObservation):
            observation.baseline(bad)
    assert observation.ring({"nodes": [{"name": "dse-seed", "state": "UN", "address": "x"}]}) == {"dse-seed": "UN"}
    with pytest.raises(MalformedObservation):
        observation.ring({"nodes": [{"name": "dse-seed", "state": "<b>up</b>"}]})
    assert observation.cluster({"cluster": {"cassandra_version": "5.0.9", "nodes": ["dse-seed"]}})["nodes"] == ["dse-seed"]
    with pytest.raises(MalformedObservation):
        observation.cluster({"cluster": {"nodes": ["../../etc"]}})


def test_recording_takes_all_or_nothing(lab: Lab, tmp_path: Path) -> None:
    store = StateStore(tmp_path / "server.sqlite")
    steps = [lab.step("list")]
    good = {"results": [_row("list", status="pass", message="right")], "facts": {"seen": [1]},
            "seat_answers": {"list": "143.08 KiB"}}
    bad = {**good, "facts": {"seen": [1], "lab:x:baseline": {"started_at": 0}}}
    with pytest.raises(MalformedObservation):
        recording.record(store, lab, bad, steps, "classroom")
    assert store.attempts(LAB_ID) == [] and store.answer(LAB_ID, "list") is None and store.facts(LAB_ID) == {}
    recording.record(store, lab, good, steps, "classroom")
    assert [(a["step"], a["status"], a["source"]) for a in store.attempts(LAB_ID)] == [("list", "pass", "classroom")]
    assert store.answer(LAB_ID, "list") == "143.08 KiB"
    assert store.seat_answer(LAB_ID, "list") == "143.08 KiB"
    assert store.facts(LAB_ID) == {"seen": [1]}


def test_the_check_request_carries_the_servers_records_of_this_run(lab: Lab, tmp_path: Path) -> None:
    store = StateStore(tmp_path / "server.sqlite")
    store.start_run(LAB_ID, {"started_at": 10.0, "log_marks": {}})
    store.record_attempt(LAB_ID, "snapshot", "pass", "a clock set back", [{"big": "evidence"}], "classroom", at=5.0)
    store.set_answer(LAB_ID, "list", "1 KiB")
    store.set_seat_answer(LAB_ID, "list", "2 KiB")
    store.set_fact(LAB_ID, "write_times", {"n": 1})
    store.record_attempt(LAB_ID, "snapshot", "pass", "this run", [{"big": "evidence"}], "classroom", at=20.0)
    request = recording.check_request(store, lab, [lab.step("list")], "classroom")
    assert request["baseline"]["started_at"] == 10.0 and request["steps"] == ["list"]
    assert request["facts"] == {"write_times": {"n": 1}}
    assert request["answers"] == {"list": "1 KiB"} and request["seat_answers"] == {"list": "2 KiB"}
    assert request["attempts"] == [{"step": "snapshot", "status": "pass", "at": 20.0, "source": "classroom"}]
