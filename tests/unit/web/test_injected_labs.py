"""The web app serves the labs it was given: answering a step finds the lab among them, never a
second time through the lab loader (whose labs/ folder does not hold this one)."""

from __future__ import annotations

from pathlib import Path

from dselab.lab import Lab, Step
from dselab.service import Workspace
from dselab.state import StateStore
from dselab.web import create_app


def test_answer_to_a_lab_only_the_app_knows_is_recorded(tmp_path: Path) -> None:
    lab = Lab(id="99-example", number="99", title="Example", summary="", steps=(
        Step(id="how-many", number=1, title="How many?", body="Count.", solution=(), question="How many?"),))
    store = tmp_path / "state.sqlite"
    app = create_app(lambda: Workspace(None, StateStore(store), "stub"), labs=[lab])  # type: ignore[arg-type]
    response = app.test_client().post("/api/labs/99/steps/1/answer", json={"value": "42"})
    assert StateStore(store).get("lab:99-example:answer:how-many") == "42", response.get_json()
    assert response.get_json()["id"] == "how-many"  # then its check ran (none is registered: an error result)


class VersionOnly:
    def cassandra_version(self) -> str:
        return "5.0.9"


def test_non_ascii_digits_in_urls_are_unknown_ids_not_errors(tmp_path: Path) -> None:
    lab = Lab(id="05-backup-restore", number="05", title="B", summary="", steps=(
        Step(id="snapshot", number=1, title="Snap", body="Snap.", solution=()),))
    client = create_app(lambda: Workspace(VersionOnly(), StateStore(tmp_path / "s.sqlite"), "stub"),  # type: ignore[arg-type]
                        labs=[lab]).test_client()
    assert client.get("/labs/%C2%B2/").status_code == 404
    assert client.get("/labs/05/%C2%B2").status_code == 404
    assert client.post("/api/labs/%D9%A3/steps/1/check").status_code == 404
