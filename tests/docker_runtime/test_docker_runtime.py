"""The Docker runtime on a real engine, with CI's stand-in image: containers on the host's network
only, node stop/start and a crash, exec, files and logs inside the containers, the faults a student
can meet (no engine, missing image), and `down --purge` removing exactly what it made.

Lab behaviour itself (every step, the restores, sstableloader into the restore container) runs on
this runtime through tests/integration (DSELAB_TEST_RUNTIME=docker) and `dselab test 05`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import docker
import pytest

from dselab import service
from dselab.runtime.base import LAB_NODES

pytestmark = pytest.mark.integration
DSELAB = [sys.executable, "-m", "dselab", "--runtime", "docker"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DSELAB, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def test_every_container_is_on_the_host_network_on_a_loopback_address(docker_lab) -> None:
    client = docker.from_env()
    containers = client.containers.list(filters={"label": "com.docker.compose.project=dselab-ci"})
    assert {c.labels["com.docker.compose.service"] for c in containers} >= set(LAB_NODES)
    for c in containers:
        assert c.attrs["HostConfig"]["NetworkMode"] == "host", c.name
    # The engine made no network of its own: nothing can route outside 127.0.0.0/8.
    assert {n.name for n in client.networks.list()} == {"host", "none"}
    rows = json.loads(run("status", "--json").stdout)
    assert [(r["name"], r["state"]) for r in rows] == [(n, "UN") for n in LAB_NODES]
    assert all(r["address"].startswith("127.") for r in rows)


def test_exec_files_and_logs_since_a_mark_read_inside_the_container(docker_lab) -> None:
    rt = docker_lab.runtime
    mark = rt.log_mark("dse-node-1")
    res = rt.nodetool("dse-node-1", ["snapshot", "-t", "docker_probe", "training"])
    assert res.ok, res.stderr
    manifests = [e.path for e in rt.list_files("dse-node-1", "training") if e.path.endswith("docker_probe/manifest.json")]
    assert len(manifests) == 2  # customers and orders
    assert '"files"' in rt.read_text("dse-node-1", manifests[0])
    assert rt.nodetool("dse-node-1", ["compact", "training", "customers"]).ok
    after = rt.log_since("dse-node-1", mark)
    assert "Compact" in after and "training" in after  # the compaction's own lines...
    assert "Starting listening for CQL clients" not in after  # ...and nothing from before the mark
    assert rt.log_since("dse-node-1", rt.log_mark("dse-node-1")) == ""
    out = rt.exec("dse-node-1", ["sh", "-c", "pwd; id -u"])
    assert out.ok and out.stdout.split() == ["/var/lib/cassandra/data", "0"]
    assert rt.nodetool("dse-node-1", ["clearsnapshot", "-t", "docker_probe"]).ok


def test_node_stop_start_and_a_killed_container_is_named_by_the_check(docker_lab) -> None:
    rt = docker_lab.runtime
    rt.stop_node("dse-node-1")
    assert {s.name: s.state for s in rt.status()}["dse-node-1"] == "DN"
    rt.start_node("dse-node-1")
    rt.kill_node("dse-node-2")  # a crash in the middle of a step
    (result,) = service.check(docker_lab, "05", ["snapshot-all"])
    assert result.status == "error"
    assert "dse-node-2 is not running" in result.message
    proc = run("nodetool", "--node", "dse-node-2", "status")
    assert proc.returncode == 2 and "dse-node-2 is not running" in proc.stderr
    assert "Traceback" not in proc.stderr
    rt.start_node("dse-node-2")
    assert all(s.state == "UN" for s in rt.status())


def test_no_engine_is_one_line_with_the_fix(docker_lab) -> None:
    proc = run("status", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "no Docker engine answers" in proc.stderr and "start Docker" in proc.stderr


def test_missing_image_is_named_and_nothing_is_pulled(docker_lab, tmp_path) -> None:
    proc = run("up", env={"DSELAB_DSE_IMAGE": "dselab-standin:does-not-exist",
                          "DSELAB_COMPOSE_PROJECT": "dselab-ci-missing", "DSELAB_HOME": str(tmp_path)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "image dselab-standin:does-not-exist for dse-seed is not on this machine" in proc.stderr
    client = docker.from_env()
    assert not client.containers.list(all=True, filters={"label": "com.docker.compose.project=dselab-ci-missing"})


def test_down_purge_removes_its_containers_and_volumes_and_nothing_else(docker_lab) -> None:
    """Runs last: it removes the session's cluster."""
    client = docker.from_env()
    bystander_volume = client.volumes.create("dselab-bystander")
    bystander = client.containers.create(os.environ["DSELAB_DSE_IMAGE"], ["true"], name="dselab-bystander",
                                         network_mode="none")
    try:
        assert run("restore-cluster", "up").returncode == 0
        assert run("restore-cluster", "down", "--purge").returncode == 0
        assert run("down", "--purge").returncode == 0
        project = {"label": "com.docker.compose.project=dselab-ci"}
        assert client.containers.list(all=True, filters=project) == []
        assert [v.name for v in client.volumes.list() if v.name.startswith("dselab-ci_")] == []
        client.volumes.get("dselab-bystander")
        client.containers.get("dselab-bystander")
    finally:
        bystander.remove(force=True)
        bystander_volume.remove(force=True)
