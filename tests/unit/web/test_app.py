"""The web lab's routes, with a stub workspace (no cluster) and labs built in the test (conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from dselab import service
from dselab.check_engine import CheckResult
from dselab.errors import ClusterDown, EnvironmentProblem
from dselab.lab import Lab, Step
from dselab.lab_session import DOWN_MESSAGE
from dselab.runtime.base import NodeStatus
from dselab.service import Workspace
from dselab.state import StateStore
from dselab.web import create_app

StubFactory = Callable[..., Callable[[], Workspace]]  # the conftest fixture


def node(name: str, state: str) -> NodeStatus:
    return NodeStatus(name=name, address=f"127.0.1.{len(name)}", state=state, version="5.0.9", data_dir="/d")


@pytest.fixture
def fake_check(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """service.check_one replaced by one that records an attempt with a chosen outcome."""
    outcome = {"status": "fail", "message": "no snapshot named lab_backup on dse-seed"}

    def check_one(ws: Workspace, lab: Lab, step: Step, source: str = "cli") -> CheckResult:
        ws.store.record_attempt(lab.id, step.id, outcome["status"], outcome["message"], [], source)
        return CheckResult(lab=lab.id, step=step.id, number=step.number, title=step.title,
                           status=outcome["status"], message=outcome["message"], hint="run nodetool snapshot")

    monkeypatch.setattr(service, "check_one", check_one)
    return outcome


def test_status_when_cluster_is_down_says_how_to_start_it(client: FlaskClient) -> None:
    response = client.get("/api/status")
    assert response.status_code == 200
    assert response.get_json() == {"up": False, "message": DOWN_MESSAGE, "nodes": []}
    assert "./scripts/up-cluster.sh (or dselab up)" in DOWN_MESSAGE


def test_status_lists_nodes_when_up(stub_factory: StubFactory, lab: Lab) -> None:
    nodes = [node("dse-seed", "UN"), node("dse-node-1", "UN"), node("dse-node-2", "DN")]
    client = create_app(stub_factory(nodes), labs=[lab]).test_client()
    data = client.get("/api/status").get_json()
    assert data["up"] is True and data["message"] == "Not up: dse-node-2."
    assert [n["name"] for n in data["nodes"]] == ["dse-seed", "dse-node-1", "dse-node-2"]
    assert set(data["nodes"][0]) == {"name", "address", "state"}


def test_status_all_nodes_down_counts_as_down(stub_factory: StubFactory, lab: Lab) -> None:
    client = create_app(stub_factory([node("dse-seed", "DN")]), labs=[lab]).test_client()
    data = client.get("/api/status").get_json()
    assert data["up"] is False and data["message"] == DOWN_MESSAGE


def test_unknown_lab_is_a_404_listing_valid_ids(client: FlaskClient) -> None:
    response = client.get("/labs/99/1")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "no lab &#39;99&#39;; valid labs: 05 (05-backup-restore)" in page
    assert 'href="/labs/05-backup-restore/"' in page and "Traceback" not in page


def test_unknown_step_is_a_404_listing_valid_steps(client: FlaskClient) -> None:
    response = client.get("/labs/05/nope")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "valid steps: 1 (snapshot), 2 (size)" in page
    assert 'href="/labs/05-backup-restore/size"' in page


def test_api_404_is_json(client: FlaskClient) -> None:
    response = client.post("/api/labs/99/steps/1/check", json={})
    assert response.status_code == 404
    assert response.get_json()["message"].startswith("no lab '99'; valid labs: 05")


def test_pages_render_live(client: FlaskClient) -> None:
    index = client.get("/").get_data(as_text=True)
    assert 'href="/labs/05-backup-restore/"' in index and 'id="cluster-status"' in index
    page = client.get("/labs/05/1").get_data(as_text=True)
    assert 'id="check-button"' in page and 'class="copy"' in page and "Show solution" in page
    assert 'id="answer-form"' not in page
    assert 'id="answer-form"' in client.get("/labs/05-backup-restore/size").get_data(as_text=True)
    assert client.get("/labs/5").status_code == 200
    assert client.get("/static/lab.js").status_code == 200


def test_check_returns_the_result_and_progress_survives_a_restart(
        client: FlaskClient, fake_check: dict[str, str], stub_factory: StubFactory, lab: Lab) -> None:
    result = client.post("/api/labs/05/steps/1/check", json={}).get_json()
    assert result["status"] == "fail" and result["id"] == "snapshot" and result["hint"]
    fake_check.update(status="pass", message="snapshot lab_backup found on all 3 nodes")
    assert client.post("/api/labs/05/steps/snapshot/check", json={}).get_json()["status"] == "pass"
    fake_check.update(status="fail", message="snapshot gone")
    client.post("/api/labs/05/steps/1/check", json={})

    restarted = create_app(stub_factory(), labs=[lab]).test_client()
    progress = restarted.get("/api/labs/05/progress").get_json()
    assert progress["passed"] == 1 and progress["total"] == 2
    first = progress["steps"][0]
    assert first["passed"] is True and first["last"]["message"] == "snapshot gone"
    assert first["last"]["source"] == "web"
    assert progress["steps"][1]["last"] is None
    page = restarted.get("/labs/05/1").get_data(as_text=True)
    assert '<span class="mark passed"' in page and "snapshot gone" in page


def test_answer_is_recorded_then_checked(client: FlaskClient, fake_check: dict[str, str], lab: Lab,
                                         store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "get_lab", lambda ref: lab)
    fake_check.update(status="pass", message="right: 143.08 KiB")
    result = client.post("/api/labs/05/steps/size/answer", json={"value": "143.08 KiB"}).get_json()
    assert result["status"] == "pass"
    assert StateStore(store_path).answer("05-backup-restore", "size") == "143.08 KiB"


@pytest.mark.parametrize("payload", [{"value": "rm -rf /; echo"}, {"value": ""}, {}, ["value"], {"value": 5}])
def test_bad_answers_are_refused_with_a_message(client: FlaskClient, lab: Lab, payload: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "get_lab", lambda ref: lab)
    response = client.post("/api/labs/05/steps/size/answer", json=payload)
    assert response.status_code == 400
    assert response.get_json()["status"] == "error" and response.get_json()["message"]


def test_answer_on_a_step_without_question(client: FlaskClient, lab: Lab,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "get_lab", lambda ref: lab)
    response = client.post("/api/labs/05/steps/1/answer", json={"value": "x"})
    assert response.status_code == 400 and "takes no answer" in response.get_json()["message"]


def test_errors_never_reach_the_browser_as_tracebacks(client: FlaskClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "check_one", broken)
    response = client.post("/api/labs/05/steps/1/check", json={})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert "Unexpected error (RuntimeError)" in response.get_json()["message"]


def test_check_reports_environment_problems_as_error_results(client: FlaskClient,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise ClusterDown("the lab cluster is down", fix="start it with `dselab up`")

    monkeypatch.setattr(service, "check_one", down)
    result = client.post("/api/labs/05/steps/1/check", json={}).get_json()
    assert result == {**result, "status": "error", "message": "the lab cluster is down",
                      "hint": "start it with `dselab up`"}


def test_workspace_that_cannot_open_still_serves_pages(lab: Lab) -> None:
    def no_workspace() -> Workspace:
        raise EnvironmentProblem("unknown runtime 'nope'", fix="set DSELAB_RUNTIME to local or docker")

    client = create_app(no_workspace, labs=[lab]).test_client()
    assert client.get("/labs/05/1").status_code == 200
    status = client.get("/api/status").get_json()
    assert status["up"] is False and "unknown runtime 'nope'" in status["message"]
    assert client.get("/api/labs/05/progress").status_code == 503
    assert client.get("/no/such/page").status_code == 404
