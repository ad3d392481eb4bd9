"""The web app serves the labs it was given: answering a step finds the lab among them, never a
second time through the lab loader (whose labs/ folder does not hold this one). Ids are ASCII."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dselab import service
from dselab.check_engine import CheckResult
from dselab.lab import Lab, Step
from dselab.state import StateStore
from dselab.web import create_app


def test_answer_to_a_lab_only_the_app_knows_is_recorded(stub_factory, store_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lab = Lab(id="99-example", number="99", title="Example", summary="", steps=(
        Step(id="how-many", number=1, title="How many?", body="Count.", solution=(), question="How many?"),))
    monkeypatch.setattr(service, "check_one", lambda ws, lab, step, source: CheckResult(
        lab=lab.id, step=step.id, number=step.number, title=step.title, status="pass", message="right"))
    client = create_app(stub_factory(), labs=[lab]).test_client()
    response = client.post("/api/labs/99/steps/1/answer", json={"value": "42"})
    assert StateStore(store_path).answer("99-example", "how-many") == "42", response.get_json()
    assert response.get_json()["id"] == "how-many"  # then its check ran


def test_non_ascii_digits_in_urls_are_unknown_ids_not_errors(client: FlaskClient) -> None:
    assert client.get("/labs/%C2%B2/").status_code == 404
    assert client.get("/labs/05/%C2%B2").status_code == 404
    assert client.post("/api/labs/%D9%A3/steps/1/check", json={}).status_code == 404
