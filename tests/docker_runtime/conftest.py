"""The docker-runtime tests need the engine and image that `make test-docker` prepares
(tests/docker_runtime/harness.py). Without them they skip, except with DSELAB_REQUIRE_DOCKER=1 (CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREPARED = all(os.environ.get(k) for k in ("DOCKER_HOST", "DSELAB_DSE_IMAGE", "DSELAB_COMPOSE_FILES"))

if PREPARED:
    os.environ.setdefault("DSELAB_COMPOSE_PROJECT", "dselab-ci")
    os.environ["DSELAB_RUNTIME"] = "docker"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PREPARED:
        return
    why = "needs the engine and stand-in image from `make test-docker`"
    if os.environ.get("DSELAB_REQUIRE_DOCKER") == "1":
        raise pytest.UsageError(f"the docker-runtime tests must run (DSELAB_REQUIRE_DOCKER=1) but: {why}")
    for item in items:
        if str(item.path).startswith(str(Path(__file__).parent)):
            item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(scope="session")
def docker_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A running docker lab cluster (the three stand-in containers, data loaded)."""
    os.environ["DSELAB_HOME"] = str(REPO / "build" / "docker-test-home")
    from dselab import cluster, service

    ws = service.open_workspace("docker")
    cluster.bring_up(ws.runtime, ws.store)  # what `dselab up` does: the training data loaded
    yield ws
    ws.close()
