"""Shared by the web tests: a lab built in the test, a stub workspace (no cluster), a test client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dselab.errors import ClusterDown
from dselab.lab import Lab, Step
from dselab.runtime.base import NodeStatus
from dselab.service import Workspace
from dselab.state import StateStore
from dselab.web import create_app

StubFactory = Callable[..., Callable[[], Workspace]]


class StubRuntime:
    """Stands in for a cluster: `nodes` as `nodetool status` would list them, None when it is down."""

    name = "stub"

    def __init__(self, nodes: list[NodeStatus] | None = None) -> None:
        self.nodes = nodes

    def status(self) -> list[NodeStatus]:
        if self.nodes is None:
            raise ClusterDown("the lab cluster is down (no node is running)", fix="start it")
        return self.nodes

    def cassandra_version(self) -> str:
        return "5.0.9"


@pytest.fixture
def lab() -> Lab:
    steps = (
        Step(id="snapshot", number=1, title="Take a snapshot", body="```bash\nnodetool snapshot\n```\n",
             solution=("./scripts/nodetool.sh snapshot training -t lab_backup",)),
        Step(id="size", number=2, title="How big?", body="Look at `listsnapshots`.\n", solution=(),
             question="What is the true size?"),
    )
    return Lab(id="05-backup-restore", number="05", title="Backup & Restore", summary="", steps=steps)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture
def stub_factory(store_path: Path) -> StubFactory:
    """stub_factory(nodes=None): a workspace factory over the stub runtime and the test's state store."""

    def make(nodes: list[NodeStatus] | None = None) -> Callable[[], Workspace]:
        return lambda: Workspace(StubRuntime(nodes), StateStore(store_path), "stub")  # type: ignore[arg-type]

    return make


@pytest.fixture
def client(stub_factory: StubFactory, lab: Lab) -> FlaskClient:
    return create_app(stub_factory(), labs=[lab]).test_client()
