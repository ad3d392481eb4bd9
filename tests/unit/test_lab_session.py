"""The shapes every lab front end shares: progress in this run, the status box, error results."""

from __future__ import annotations

from dselab.lab_session import DOWN_MESSAGE, error_result, health_box, lab_progress
from dselab.outcomes import CheckStatus, NodeState
from dselab.state import StateStore
from shipped_content import shipped_lab

LAB = shipped_lab("05")


def test_progress_counts_passes_of_this_run_and_keeps_the_last_outcome() -> None:
    store = StateStore.in_memory()
    store.record_attempt(LAB.id, "snapshot", CheckStatus.PASS, "old run", [], at=1.0)
    store.start_run(LAB.id, {"started_at": 2.0, "log_marks": {}})
    store.record_attempt(LAB.id, "snapshot", CheckStatus.PASS, "ok", [], at=3.0)
    store.record_attempt(LAB.id, "snapshot", CheckStatus.FAIL, "undone", [], at=4.0)
    store.record_attempt(LAB.id, "not-a-step", CheckStatus.PASS, "?", [], at=5.0)
    progress = lab_progress(store, LAB)
    assert progress["passed"] == 1 and progress["total"] == len(LAB.steps)
    first = progress["steps"][0]
    assert first["id"] == "snapshot" and first["passed"] and first["last"]["message"] == "undone"
    assert all(not s["passed"] and s["last"] is None for s in progress["steps"][1:])


def test_the_status_box_is_up_when_a_node_serves_and_names_the_others() -> None:
    box = health_box([("dse-seed", "127.0.0.1", "UN"), ("dse-node-1", "", NodeState.STOPPED),
                      ("dse-node-2", "", "UJ")])
    assert box["up"] and box["message"] == "Not up: dse-node-1, dse-node-2."
    assert [n["state"] for n in box["nodes"]] == ["UN", "down", "UJ"]
    assert health_box([("dse-seed", "", NodeState.RUNNING)]) == {
        "up": False, "message": DOWN_MESSAGE, "nodes": [{"name": "dse-seed", "address": "", "state": "running"}]}
    assert health_box([("dse-seed", "", "DN")], "ring: no answer")["message"] == "ring: no answer"


def test_node_states_parse_unknown_values_as_unknown() -> None:
    assert NodeState.parse("UN").serving and not NodeState.parse("DN").serving
    assert NodeState.parse("<b>") is NodeState.UNKNOWN


def test_an_error_result_is_shaped_like_a_result() -> None:
    step = LAB.steps[0]
    result = error_result(LAB, step, "cannot run", "start the cluster")
    assert result == {"lab": LAB.id, "id": step.id, "number": step.number, "title": step.title,
                      "status": "error", "message": "cannot run", "hint": "start the cluster", "seconds": 0.0}
