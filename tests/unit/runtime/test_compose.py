"""The Docker Compose runtime's logic against a fake engine (fast, no root), and runtime selection.

Everything these tests cover that a real engine here can show is also proven for real in
tests/docker_runtime and tests/integration under `make test-docker`. What only this fake covers:
containers on a compose (bridge) network with published CQL ports, which CI may not create;
`docker compose` v2 detection (Debian ships only v1); and timeout/OOM exit-code mapping."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import yaml
from docker.models.containers import ExecResult

from dselab.errors import ClusterDown, EnvironmentProblem, NodeTimeout, UsageError
from dselab.runtime import compose, factory
from dselab.runtime.base import CommandResult, FileEntry, Runtime
from dselab.runtime.compose import ComposeRuntime
from dselab.runtime.local import LocalRuntime

REPO = Path(__file__).resolve().parents[3]

Reply = tuple[int, str, str]
Handler = Callable[[list[str]], Reply]


class FakeContainer:
    """One container as the Docker SDK shows it: labels, status, exec_run, logs."""

    def __init__(self, service: str, status: str = "running", project: str = "dselab",
                 handler: Handler | None = None, logs: str = "") -> None:
        self.name = f"{project}-{service}-1"
        self.labels = {"com.docker.compose.project": project,
                       "com.docker.compose.service": service}
        self.status = status
        self.handler = handler or (lambda argv: (0, "", ""))
        self.calls: list[dict[str, Any]] = []
        self.log_text = logs
        # What the list endpoint gives: State is only a name; reload() gives the full inspect.
        self.attrs: dict[str, Any] = {
            "NetworkSettings": {"Networks": {"dselab_default": {"IPAddress": "172.18.0.2"}}},
            "State": status,
            "Mounts": [],
        }
        self.since: list[Any] = []

    def reload(self) -> None:
        self.attrs["State"] = {"Status": self.status,
                               "StartedAt": "2024-05-01T10:00:00.123456789Z"}

    def exec_run(self, cmd: list[str], workdir: str | None = None, demux: bool = False,
                 environment: dict[str, str] | None = None, **_: Any) -> ExecResult:
        self.calls.append({"cmd": list(cmd), "workdir": workdir, "environment": environment})
        # Strip the `timeout -k 10 N` wrapper the runtime adds, so handlers see the real argv.
        argv = list(cmd[4:]) if cmd[:1] == ["timeout"] else list(cmd)
        rc, out, err = self.handler(argv)
        output = (out.encode() or None, err.encode() or None) if demux else (out + err).encode()
        return ExecResult(rc, output)

    def kill(self) -> None:
        self.status = "exited"

    def logs(self, since: Any = None, **_: Any) -> bytes:
        self.since.append(since)
        return self.log_text.encode()


class FakeContainers:
    def __init__(self, containers: Sequence[FakeContainer]) -> None:
        self.items = list(containers)

    def list(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[FakeContainer]:
        wanted = (filters or {}).get("label", [])
        wanted = [wanted] if isinstance(wanted, str) else wanted
        pairs = [tuple(w.split("=", 1)) for w in wanted]
        return [c for c in self.items
                if (all or c.status == "running") and all_labels(c, pairs)]


def all_labels(container: FakeContainer, pairs: Sequence[tuple[str, ...]]) -> bool:
    return all(container.labels.get(k) == v for k, v in pairs)


class FakeDockerClient:
    """Stands in for a Docker engine (docker.DockerClient) in unit tests: what the runtime asks of
    the engine and how it reads the answers. The real engine is exercised by `make test-docker`."""

    def __init__(self, *containers: FakeContainer) -> None:
        self.containers = FakeContainers(containers)
        self.closed = False

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def lab(handler: Handler | None = None,
        stopped: Sequence[str] = ()) -> tuple[ComposeRuntime, dict[str, FakeContainer]]:
    """A lab runtime over three fake containers that all answer exec with `handler`."""
    boxes = {n: FakeContainer(n, "exited" if n in stopped else "running", handler=handler)
             for n in ("dse-seed", "dse-node-1", "dse-node-2")}
    return ComposeRuntime("lab", client=FakeDockerClient(*boxes.values())), boxes


# -- commands ---------------------------------------------------------------------------------

def test_runtime_meets_the_protocol() -> None:
    runtime, _ = lab()
    assert isinstance(runtime, Runtime)
    assert runtime.name == "docker"
    assert runtime.node_names() == ["dse-seed", "dse-node-1", "dse-node-2"]


def test_nodetool_runs_in_the_named_container_and_maps_the_result() -> None:
    runtime, boxes = lab(lambda argv: (0, "UN  172.18.0.3\n", ""))
    res = runtime.nodetool("dse-node-1", ["status", "training"], timeout=90)
    assert res == CommandResult(("nodetool", "status", "training"), 0, "UN  172.18.0.3\n", "")
    call = boxes["dse-node-1"].calls[0]
    assert call["cmd"] == ["timeout", "-k", "10", "90", "nodetool", "status", "training"]
    assert "/opt/dse/bin" in call["environment"]["PATH"]
    assert boxes["dse-seed"].calls == [] and boxes["dse-node-2"].calls == []


def test_nodetool_failure_keeps_exit_code_and_stderr() -> None:
    runtime, _ = lab(lambda argv: (2, "", "error: Keyspace nope does not exist\n"))
    res = runtime.nodetool("dse-seed", ["flush", "nope"])
    assert not res.ok
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_timeout_exit_becomes_node_timeout() -> None:
    runtime, _ = lab(lambda argv: (124, "", ""))
    with pytest.raises(NodeTimeout):
        runtime.nodetool("dse-seed", ["repair"], timeout=5)


def test_exec_defaults_to_the_data_dir() -> None:
    runtime, boxes = lab(lambda argv: (0, "hi\n", ""))
    res = runtime.exec("dse-node-2", ["echo", "hi"])
    assert res.argv == ("echo", "hi") and res.stdout == "hi\n"
    assert boxes["dse-node-2"].calls[0]["workdir"] == "/var/lib/cassandra/data"


def test_sstableloader_runs_in_the_container_and_other_tools_are_refused() -> None:
    runtime, boxes = lab(lambda argv: (0, "Summary statistics:\n", ""))
    res = runtime.tool("dse-seed", "sstableloader", ["-d", "dse-restore", "/tmp/training/orders"])
    assert res.argv == ("sstableloader", "-d", "dse-restore", "/tmp/training/orders") and res.ok
    assert boxes["dse-seed"].calls[0]["cmd"][4] == "sstableloader"
    with pytest.raises(UsageError):
        runtime.tool("dse-seed", "sstablescrub", [])


def test_unknown_node_lists_the_nodes() -> None:
    runtime, _ = lab()
    with pytest.raises(UsageError) as err:
        runtime.nodetool("dse-node-9", ["status"])
    assert "dse-seed, dse-node-1, dse-node-2" in err.value.message


def test_stopped_container_is_cluster_down() -> None:
    runtime, _ = lab(stopped=("dse-node-2",))
    with pytest.raises(ClusterDown) as err:
        runtime.nodetool("dse-node-2", ["status"])
    assert "dse-node-2 is not running" in err.value.message
    assert runtime.is_running("dse-seed") and not runtime.is_running("dse-node-2")


def test_all_stopped_says_the_cluster_is_down() -> None:
    runtime, _ = lab(stopped=("dse-seed", "dse-node-1", "dse-node-2"))
    with pytest.raises(ClusterDown, match="cluster is down"):
        runtime.log_mark("dse-seed")


def test_missing_container_is_not_running() -> None:
    runtime = ComposeRuntime("lab", client=FakeDockerClient(FakeContainer("dse-seed")))
    assert runtime.is_running("dse-seed") and not runtime.is_running("dse-node-1")
    assert not runtime.exists()


def test_containers_of_another_project_are_ignored() -> None:
    other = FakeContainer("dse-seed", project="someone-else")
    runtime = ComposeRuntime("lab", client=FakeDockerClient(other))
    assert runtime.container("dse-seed") is None


# -- files and logs ---------------------------------------------------------------------------

FIND_OUT = (
    "orders-1b2c/mc-1-big-Data.db\t1234\t1714557600.5\t42\t2\n"
    "orders-1b2c/snapshots/s1/manifest.json\t60\t1714557601.0\t43\t1\n"
    "garbage line\n"
)


def test_find_output_parses_to_file_entries() -> None:
    runtime, boxes = lab(lambda argv: (0, FIND_OUT, ""))
    files = runtime.list_files("dse-seed", "training")
    assert files == [
        FileEntry("training/orders-1b2c/mc-1-big-Data.db", 1234, 1714557600.5, 42, 2),
        FileEntry("training/orders-1b2c/snapshots/s1/manifest.json", 60, 1714557601.0, 43, 1),
    ]
    assert boxes["dse-seed"].calls[0]["cmd"][4:] == [
        "find", "/var/lib/cassandra/data/training", "-type", "f",
        "-printf", "%P\t%s\t%T@\t%i\t%n\n"]


def test_list_files_of_the_whole_data_dir_and_of_a_missing_folder() -> None:
    runtime, _ = lab(lambda argv: (0, "system/local-7ad5/mc-1-big-Data.db\t9\t1.0\t7\t1\n", ""))
    assert runtime.list_files("dse-seed")[0].path == "system/local-7ad5/mc-1-big-Data.db"
    missing, _ = lab(lambda argv: (1, "", "find: 'x': No such file or directory\n"))
    assert missing.list_files("dse-seed", "nope") == []
    broken, _ = lab(lambda argv: (1, "", "find: 'x': Permission denied\n"))
    with pytest.raises(EnvironmentProblem, match="Permission denied"):
        broken.list_files("dse-seed", "x")


def test_paths_may_not_leave_the_data_dir() -> None:
    runtime, boxes = lab()
    for bad in ("../../etc", "/etc/passwd", "training/../../log"):
        with pytest.raises(UsageError):
            runtime.list_files("dse-seed", bad)
    assert boxes["dse-seed"].calls == []


def test_copy_and_remove_use_container_paths() -> None:
    runtime, boxes = lab()
    runtime.copy_files("dse-node-1", ["training/t-1/snapshots/s/mc-1-big-Data.db"], "training/t-1")
    runtime.remove_files("dse-node-1", ["training/t-1/mc-9-big-Data.db"])
    cmds = [c["cmd"][4:] for c in boxes["dse-node-1"].calls]
    base = "/var/lib/cassandra/data/training/t-1"
    assert cmds == [
        ["mkdir", "-p", base],
        ["cp", "-p", "--", f"{base}/snapshots/s/mc-1-big-Data.db", f"{base}/"],
        ["rm", "-f", "--", f"{base}/mc-9-big-Data.db"],
    ]


def test_read_text_of_a_missing_file_is_file_not_found() -> None:
    runtime, _ = lab(lambda argv: (1, "", "cat: x: No such file or directory\n"))
    with pytest.raises(FileNotFoundError):
        runtime.read_text("dse-seed", "training/x/manifest.json")


def test_read_bytes_is_bounded_base64_through_exec_and_refuses_what_is_no_regular_file() -> None:
    runtime, boxes = lab(lambda argv: (0, "AAEC/w==\n", ""))
    assert runtime.read_bytes("dse-seed", "training/t-1/nb-1-big-Data.db", 4) == b"\x00\x01\x02\xff"
    argv = boxes["dse-seed"].calls[0]["cmd"][4:]
    assert argv[:2] == ["sh", "-c"] and argv[3:] == ["4", "/var/lib/cassandra/data/training/t-1/nb-1-big-Data.db"]
    assert "head -c" in argv[2] and "base64" in argv[2]
    missing, _ = lab(lambda argv: (4, "", ""))
    with pytest.raises(FileNotFoundError):
        missing.read_bytes("dse-seed", "training/t-1/nb-9-big-Data.db", 4)
    fifo, _ = lab(lambda argv: (3, "", ""))
    with pytest.raises(OSError, match="not a regular file"):
        fifo.read_bytes("dse-seed", "training/t-1/nb-9-big-Data.db", 4)


def test_log_mark_is_the_debug_log_size_and_log_since_tails_from_it() -> None:
    def handler(argv: list[str]) -> Reply:
        if argv[0] == "stat":
            return 0, "2048\n", ""
        return 0, "INFO new line\n", ""

    runtime, boxes = lab(handler)
    mark = runtime.log_mark("dse-seed")
    assert mark == 2048
    assert runtime.log_since("dse-seed", mark) == "INFO new line\n"
    cmds = [c["cmd"][4:] for c in boxes["dse-seed"].calls]
    assert cmds[0] == ["stat", "-c", "%s", "/var/log/cassandra/debug.log"]
    assert cmds[-1] == ["tail", "-c", "+2049", "/var/log/cassandra/debug.log"]


def test_log_since_rereads_a_replaced_log() -> None:
    runtime, boxes = lab(lambda argv: (0, "10\n", "") if argv[0] == "stat" else (0, "all\n", ""))
    runtime.log_since("dse-seed", 5000, debug=False)
    assert boxes["dse-seed"].calls[-1]["cmd"][4:] == ["tail", "-c", "+1", "/var/log/cassandra/system.log"]


# -- CQL and cqlsh ----------------------------------------------------------------------------

def test_cql_goes_through_the_seed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []

    class Session:
        def execute(self, stmt: Any, params: Any) -> list[Any]:
            return []

    monkeypatch.setattr(compose, "connect", lambda host, port, protocol_version: seen.append((host, port, protocol_version))
                        or Session())
    runtime, _ = lab()
    assert runtime.cql("SELECT * FROM system.local") == []
    assert seen == [("127.0.0.1", 9042, 4)]  # DSE 5.1 speaks protocol v4
    with pytest.raises(UsageError, match="goes through dse-seed"):
        runtime.cql("SELECT 1", node="dse-node-1")


def test_cqlsh_argv_is_docker_exec_into_the_container() -> None:
    runtime, _ = lab()
    argv = runtime.cqlsh_argv("dse-node-1", ["-e", "DESCRIBE KEYSPACES"])
    assert argv[:3] == ["docker", "exec", "-i"]
    assert argv[-4:] == ["dselab-dse-node-1-1", "cqlsh", "-e", "DESCRIBE KEYSPACES"]


# -- compose CLI ------------------------------------------------------------------------------

def test_start_node_runs_compose_with_an_argv_list_and_waits_for_cql(
        monkeypatch: pytest.MonkeyPatch) -> None:
    box = FakeContainer("dse-node-2", status="exited")
    runs: list[tuple[list[str], dict[str, Any]]] = []

    def fake_run(argv: list[str], **kw: Any) -> Any:
        runs.append((argv, kw))
        box.status = "running"
        box.log_text = "INFO Starting listening for CQL clients on /0.0.0.0:9042\n"
        return type("Proc", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(compose, "compose_command", lambda: ["docker", "compose"])
    monkeypatch.setattr(compose.subprocess, "run", fake_run)
    runtime = ComposeRuntime("lab", client=FakeDockerClient(box),
                             compose_paths=[REPO / "docker-compose.yml"])
    runtime.start_node("dse-node-2")
    argv, kw = runs[0]
    assert argv == ["docker", "compose", "-p", "dselab", "-f", str(REPO / "docker-compose.yml"),
                    "up", "-d", "--no-deps", "dse-node-2"]
    assert "shell" not in kw
    assert box.since == [1714557600]  # this run's output only: since the engine's StartedAt
    runtime.start_node("dse-node-2")  # already running: no second compose call
    assert len(runs) == 1


def test_restore_runtime_uses_the_restore_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[list[str]] = []
    box = FakeContainer("dse-restore")
    monkeypatch.setattr(compose, "compose_command", lambda: ["docker", "compose"])
    monkeypatch.setattr(compose.subprocess, "run", lambda argv, **kw: runs.append(argv) or
                        type("Proc", (), {"returncode": 0, "stdout": "", "stderr": ""})())
    runtime = ComposeRuntime("restore", client=FakeDockerClient(box),
                             compose_paths=[REPO / "docker-compose.yml"])
    assert runtime.node_names() == ["dse-restore"]
    runtime.stop_node("dse-restore")
    assert runs[0][6:] == ["--profile", "restore", "stop", "-t", "120", "dse-restore"]


# -- no engine, selection ---------------------------------------------------------------------

def no_engine(**_: Any) -> Any:
    raise docker.errors.DockerException("Error while fetching server API version: "
                                        "('Connection aborted.', FileNotFoundError(2))")


def test_no_engine_is_an_environment_problem_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker, "from_env", no_engine)
    assert compose.docker_available() is False
    with pytest.raises(EnvironmentProblem) as err:
        factory.make_runtime("docker")
    assert err.value.message == "no Docker engine answers"
    assert err.value.fix and "\n" not in err.value.one_line()


def test_engine_that_answers_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker, "from_env", lambda **_: FakeDockerClient())
    assert compose.docker_available() is True
    monkeypatch.setenv("DSELAB_RUNTIME", "docker")
    runtime = factory.make_runtime()
    assert isinstance(runtime, ComposeRuntime) and runtime.cluster == "lab"
    client = runtime.client
    runtime.close()  # the runtime made this client, so it closes it
    assert client.closed
    assert factory.restore_runtime().node_names() == ["dse-restore"]


def test_local_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DSELAB_RUNTIME", raising=False)
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path))
    monkeypatch.setattr(docker, "from_env", lambda **_: FakeDockerClient())  # even with an engine
    runtime = factory.make_runtime()
    assert isinstance(runtime, LocalRuntime) and runtime.cluster == "lab"
    restore = factory.restore_runtime()
    assert isinstance(restore, LocalRuntime) and restore.cluster == "restore"


def test_runtime_names_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError) as err:
        factory.make_runtime("podman")
    assert "local, docker" in err.value.message
    monkeypatch.setenv("DSELAB_RUNTIME", "kubernetes")
    with pytest.raises(UsageError):
        factory.make_runtime()


# -- docker-compose.yml -----------------------------------------------------------------------

def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_compose_file_has_the_lab_and_restore_services() -> None:
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = spec["services"]
    assert {"dse-seed", "dse-node-1", "dse-node-2", "dse-restore"} <= set(services)
    for name, service in services.items():
        env = env_of(service)
        assert env["DS_LICENSE"] == "accept", name
        assert "dse-server:5.1." in service["image"], name
        assert "IPC_LOCK" in service["cap_add"], name
        assert {v.split(":")[1] for v in service["volumes"]} == {"/var/lib/cassandra",
                                                                "/var/log/cassandra"}
    for name in ("dse-seed", "dse-node-1", "dse-node-2"):
        env = env_of(services[name])
        assert (env["SEEDS"], env["CLUSTER_NAME"], env["NUM_TOKENS"]) == ("dse-seed", "dselab", "16")
        assert "-Xmx1g" in env["JVM_EXTRA_OPTS"]
        assert "profiles" not in services[name]
    published = yaml.safe_load((REPO / "docker-compose.override.yml").read_text())["services"]
    assert published["dse-seed"]["ports"] == ["127.0.0.1:9042:9042"]
    assert all("ports" not in service for service in services.values())  # the stand-in runs on the host's network
    restore = services["dse-restore"]
    assert restore["profiles"] == ["restore"]
    assert (env_of(restore)["CLUSTER_NAME"], env_of(restore)["SEEDS"]) == ("dselab-restore",
                                                                           "dse-restore")
    restore_ports = published["dse-restore"]["ports"]
    assert all(p.startswith("127.0.0.1:") for p in restore_ports)
    assert compose.CQL_PORTS["dse-restore"] == int(restore_ports[0].split(":")[1])


def test_compose_files_default_to_the_base_and_its_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSELAB_COMPOSE_FILES", raising=False)
    monkeypatch.delenv("DSELAB_COMPOSE_FILE", raising=False)
    assert compose.compose_files() == [REPO / "docker-compose.yml", REPO / "docker-compose.override.yml"]
    monkeypatch.setenv("DSELAB_COMPOSE_FILES", f"/a.yml{os.pathsep}/b.yml")
    assert compose.compose_files() == [Path("/a.yml"), Path("/b.yml")]


def test_standin_override_keeps_every_node_on_the_host_network() -> None:
    """CI's stand-in must never create a container network: no traffic may leave 127.0.0.0/8."""
    spec = yaml.safe_load((REPO / "docker" / "standin" / "compose.standin.yml").read_text())
    jmx = set()
    for name, service in spec["services"].items():
        assert service["network_mode"] == "host", name
        assert "ports" not in service, name
        env = env_of(service)
        assert env["LISTEN_ADDRESS"].startswith("${DSELAB_STANDIN_NET:-127.0.56}."), name
        jmx.add(env["JMX_PORT"])
    assert len(jmx) == len(spec["services"])  # they all share the host's 127.0.0.1


def test_the_restore_cluster_shares_the_engine_connection_it_does_not_own() -> None:
    client = FakeDockerClient(FakeContainer("dse-restore", project="seat7"))
    lab_runtime = ComposeRuntime("lab", client=client, project="seat7")
    restore = lab_runtime.for_cluster("restore")
    assert restore.cluster == "restore" and restore.project == "seat7"
    assert restore.is_running("dse-restore")
    restore.close()
    assert not client.closed


def test_kill_node_kills_the_running_container_only() -> None:
    runtime, boxes = lab(stopped=("dse-node-1",))
    runtime.kill_node("dse-node-2")
    assert boxes["dse-node-2"].status == "exited" and not runtime.is_running("dse-node-2")
    runtime.kill_node("dse-node-1")  # already stopped: nothing to kill
    with pytest.raises(ClusterDown, match="dse-node-2 is not running"):
        runtime.nodetool("dse-node-2", ["status"])
