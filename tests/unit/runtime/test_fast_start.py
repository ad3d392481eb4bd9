"""How the local runtime starts nodes fast without changing the lab: tokens given up front to the
nodes that do not bootstrap, the seed first and the others from the moment it answers gossip, a
bootstrapping node alone afterwards; nodes that have all joined before start at once, without
waiting for each other, and only they skip the shadow round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dselab.runtime import local
from dselab.runtime.common import READY_LINE
from dselab.runtime.local import LocalRuntime
from dselab.runtime.local_config import VNODES, cassandra_yaml, interleaved_tokens, lab_specs, restore_specs
from dselab.runtime.local_settings import LocalSettings

MIN_TOKEN, MAX_TOKEN = -(2**63), 2**63 - 1


def settings(tmp_path: Path) -> LocalSettings:
    return LocalSettings(home=tmp_path, loopback="127.0.90", jmx_base=12500, heap_mb=256)


def test_two_nodes_tokens_alternate_evenly_around_the_ring() -> None:
    seed, node1 = interleaved_tokens(0, 2), interleaved_tokens(1, 2)
    ring = sorted(seed + node1)
    assert len(seed) == len(node1) == VNODES and len(set(ring)) == 2 * VNODES
    assert [t in seed for t in ring] == [True, False] * VNODES  # they take turns
    gaps = {b - a for a, b in zip(ring, ring[1:], strict=False)}
    assert max(gaps) - min(gaps) <= 1
    assert MIN_TOKEN < ring[0] and ring[-1] <= MAX_TOKEN  # the minimum token is no node's


def test_only_the_nodes_that_do_not_bootstrap_get_tokens(tmp_path: Path) -> None:
    specs = lab_specs(settings(tmp_path))
    conf = {name: yaml.safe_load(cassandra_yaml(spec)) for name, spec in specs.items()}
    assert conf["dse-seed"]["initial_token"].split(",") == [str(t) for t in interleaved_tokens(0, 2)]
    assert conf["dse-node-1"]["initial_token"].split(",") == [str(t) for t in interleaved_tokens(1, 2)]
    # dse-node-2 still joins by bootstrap: it picks its tokens and streams its share of the data
    assert "initial_token" not in conf["dse-node-2"] and conf["dse-node-2"]["auto_bootstrap"] is True
    assert all(c["num_tokens"] == VNODES for c in conf.values())
    restore = next(iter(restore_specs(settings(tmp_path)).values()))
    assert yaml.safe_load(cassandra_yaml(restore))["initial_token"].count(",") == VNODES - 1


class Recorder:
    """Stands in for the node processes: records launches and waits, in order."""

    def __init__(self, runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[str] = []
        monkeypatch.setattr(local.preflight, "check_all", lambda *a, **k: None)
        monkeypatch.setattr(LocalRuntime, "dist", property(lambda self: None))
        monkeypatch.setattr(LocalRuntime, "is_running", lambda self, node: node in self.running)
        monkeypatch.setattr(LocalRuntime, "_launch", lambda self, node, members=False: self.recorder.log(
            f"launch {node}" + (" with its members" if members else ""), node))
        monkeypatch.setattr(LocalRuntime, "_await_gossip", lambda self, node: self.recorder.log(f"gossip {node}"))
        monkeypatch.setattr(LocalRuntime, "_await_ready", lambda self, node: self.recorder.log(f"ready {node}"))
        runtime.running = set()  # type: ignore[attr-defined]
        runtime.recorder = self  # type: ignore[attr-defined]

    def log(self, event: str, value: Any = None) -> Any:
        self.events.append(event)
        return value


def test_the_seed_answers_gossip_before_dse_node_1_starts_then_both_are_awaited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    runtime.up_nodes(["dse-seed", "dse-node-1"])
    assert rec.events == ["launch dse-seed", "gossip dse-seed", "launch dse-node-1",
                          "ready dse-seed", "ready dse-node-1"]


def test_a_bootstrapping_node_starts_alone_once_the_others_are_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    runtime.up_nodes(["dse-seed", "dse-node-1", "dse-node-2"])
    assert rec.events[-2:] == ["launch dse-node-2", "ready dse-node-2"]
    assert rec.events.index("ready dse-node-1") < rec.events.index("launch dse-node-2")


def test_no_gossip_wait_when_the_seed_already_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    runtime.running = {"dse-seed"}  # type: ignore[attr-defined]
    runtime.up_nodes(["dse-seed", "dse-node-1"])
    assert rec.events == ["launch dse-node-1", "ready dse-node-1"]


def _launcher(runtime: LocalRuntime, lines: list[str], codes: list[int]) -> tuple[list[str], Any]:
    """`_launch` stand-in: each start appends its line to the node's system.log, then the process
    exits with its code (or sleeps while the test reads its log, for code 0)."""
    import subprocess

    started: list[str] = []

    def launch(self: LocalRuntime, node: str, members: bool = False) -> local.Launch:
        spec = self.spec(node)
        spec.log_dir.mkdir(parents=True, exist_ok=True)
        log = spec.log_dir / "system.log"
        mark = log.stat().st_size if log.exists() else 0
        with log.open("a") as fh:
            fh.write(lines[len(started)] + "\n")
        code = codes[len(started)]
        started.append(node)
        proc = subprocess.Popen(["sh", "-c", f"exit {code}" if code else "sleep 5"])
        return local.Launch(node, proc, mark, members)

    return started, launch


def test_a_node_that_found_no_gossip_peer_in_time_starts_once_more(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    started, launch = _launcher(runtime, [f"ERROR {local.NO_GOSSIP_LINE}", READY_LINE], [1, 0])
    monkeypatch.setattr(LocalRuntime, "_launch", launch)
    runtime._await_ready(launch(runtime, "dse-node-1"))
    assert started == ["dse-node-1", "dse-node-1"]


def test_any_other_exit_while_starting_is_reported_not_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab.errors import EnvironmentProblem

    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    started, launch = _launcher(runtime, ["ERROR Address already in use"], [1])
    monkeypatch.setattr(LocalRuntime, "_launch", launch)
    with pytest.raises(EnvironmentProblem, match="exited with code 1"):
        runtime._await_ready(launch(runtime, "dse-node-1"))
    assert started == ["dse-node-1"]


def test_a_second_gossip_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab.errors import EnvironmentProblem

    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    line = f"ERROR {local.NO_GOSSIP_LINE}"
    started, launch = _launcher(runtime, [line, line], [1, 1])
    monkeypatch.setattr(LocalRuntime, "_launch", launch)
    with pytest.raises(EnvironmentProblem, match="exited with code 1"):
        runtime._await_ready(launch(runtime, "dse-node-1"))
    assert len(started) == 2


ALL_AT_ONCE = ["launch dse-seed with its members", "launch dse-node-1 with its members",
               "launch dse-node-2 with its members", "ready dse-seed", "ready dse-node-1", "ready dse-node-2"]


def test_a_cluster_made_from_a_template_starts_every_node_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    runtime.up_nodes(["dse-seed", "dse-node-1", "dse-node-2"], members=True)  # dse-node-2 joined when it was made
    assert rec.events == ALL_AT_ONCE


def test_a_cluster_stopped_with_its_data_starts_every_node_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    for spec in runtime.specs.values():
        (spec.root / "data" / "system").mkdir(parents=True)  # each node has started before
    runtime.up_nodes(["dse-seed", "dse-node-1", "dse-node-2"])
    assert rec.events == ALL_AT_ONCE


def test_one_fresh_node_keeps_the_seed_first_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    (runtime.specs["dse-seed"].root / "data" / "system").mkdir(parents=True)  # dse-node-1 never started
    runtime.up_nodes(["dse-seed", "dse-node-1"])
    assert rec.events[:2] == ["launch dse-seed", "gossip dse-seed"]


def test_one_joined_node_started_alone_keeps_its_shadow_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    rec = Recorder(runtime, monkeypatch)
    runtime.running = {"dse-seed", "dse-node-2"}  # type: ignore[attr-defined]
    (runtime.specs["dse-node-1"].root / "data" / "system").mkdir(parents=True)  # a student's restart
    runtime.up_nodes(["dse-seed", "dse-node-1", "dse-node-2"])
    assert rec.events == ["launch dse-node-1", "ready dse-node-1"]


def test_only_a_members_start_carries_the_skip_of_the_shadow_round(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    runtime = LocalRuntime("lab", settings=settings(tmp_path))
    monkeypatch.setattr(LocalRuntime, "dist", property(lambda self: SimpleNamespace(classpath="/lib/*", jamm_agent=None)))
    monkeypatch.setattr(LocalRuntime, "archive_of", lambda self, java, entry: SimpleNamespace(flags=lambda owner: []))
    monkeypatch.setattr(local.preflight, "java_binary", lambda home: "/usr/bin/java")
    spec = runtime.spec("dse-node-1")
    alone, together = runtime.server_argv(spec), runtime.server_argv(spec, members=True)
    assert "-Dcassandra.allow_unsafe_join=true" in together and not any("unsafe" in a for a in alone)
    assert [a for a in together if a not in local.MEMBERS_TOGETHER_FLAGS] == alone
