"""Bring the lab cluster up with the module 01 environment, whatever the runtime.

First time: dse-seed and dse-node-1 start, the training data is loaded, then dse-node-2
bootstraps into the ring (so the older nodes hold data they no longer own). The fingerprint of
the data and the moment dse-node-2 joined are recorded in the state store. Later calls only
start what is not running.

A fresh local cluster (none in this home) is made from the pristine template when there is one
for the same Cassandra, node settings and data (runtime/template.py): the nodes' state is laid
down from it and the three nodes start together. The first fresh `up` for a key builds the
template: the long way, then the nodes drain and stop, their state is kept, and they start again.
The environment record is the same either way (the template keeps the fingerprint it was made with).
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from dselab import environment
from dselab.errors import EnvironmentProblem, UsageError
from dselab.progress import Progress, Silent
from dselab.runtime.base import LAB_NODES, Runtime
from dselab.runtime.common import last_lines
from dselab.settings import TEMPLATE as TEMPLATE_ENV
from dselab.settings import TEMPLATE_DIR as TEMPLATE_DIR_ENV
from dselab.state import StateStore

if TYPE_CHECKING:
    from dselab.runtime.local import LocalRuntime
    from dselab.runtime.template import Template


def environment_record(store: StateStore) -> dict[str, Any] | None:
    return store.environment()


def bring_up(runtime: Runtime, store: StateStore, progress: Progress | None = None,
             fresh: bool = False) -> dict[str, Any]:
    """The cluster with its environment, as the record says; `fresh`: a new cluster is made the
    long way, without the template (none is used or kept)."""
    progress = progress or Silent()
    record = environment_record(store)
    if record is not None and runtime.exists():
        runtime.up()
        return record
    local = None if fresh else templated(runtime)
    if local is None:
        record = _first_time(runtime, progress)
    else:
        record = _from_template(local, progress)
    store.set_environment(record)
    progress.done("environment ready: training keyspace on three nodes")
    return record


def _first_time(runtime: Runtime, progress: Progress) -> dict[str, Any]:
    seed, node1, node2 = LAB_NODES
    runtime.up_nodes([seed, node1])
    wait_for_ring(runtime, seed, [seed, node1], progress)
    progress.step("creating keyspace training and loading its data (two nodes up)")
    environment.load(runtime, progress)
    progress.step("dse-node-2 bootstraps into the ring (streams its share of the data)")
    runtime.start_node(node2)
    return {
        "loaded_at": time.time(),
        "node2_joined_at": time.time(),
        "fingerprint": _fingerprint(runtime, progress),
        "cassandra_version": runtime.cassandra_version(),
    }


def _fingerprint(runtime: Runtime, progress: Progress, tries: int = 3) -> dict[str, Any]:
    """The data's fingerprint, read at ALL: on a loaded machine a replica may miss the read
    timeout once (seen with several clusters on 2 cores), so a timeout is tried again."""
    for attempt in range(1, tries + 1):
        try:
            return {t: fp.to_dict() for t, fp in environment.fingerprint(runtime).items()}
        except EnvironmentProblem as exc:
            if attempt == tries or "timed out" not in str(exc):
                raise
            progress.step(f"reading the data's fingerprint again (attempt {attempt} timed out)")
            time.sleep(5)
    raise AssertionError("unreachable")


def data_version() -> str:
    """A digest of the environment's data (schema and the rows' expected fingerprint): part of a
    template's key, so a change of the training data makes a new template."""
    rows = {t: fp.to_dict() for t, fp in environment.expected_fingerprint().items()}
    text = json.dumps({"schema": environment.SCHEMA, "rows": rows}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def templated(runtime: Runtime) -> LocalRuntime | None:
    """The runtime when its fresh cluster may come from a template: the local runtime's lab
    cluster, templates on (DSELAB_TEMPLATE), and no node folder in this home yet."""
    from dselab.runtime.local import LocalRuntime

    if not isinstance(runtime, LocalRuntime) or runtime.cluster != "lab" or not runtime.config.template:
        return None
    if any(spec.root.exists() for spec in runtime.specs.values()):
        return None  # a cluster's folders are there (its record was forgotten): start what is there
    return runtime


def _from_template(runtime: LocalRuntime, progress: Progress) -> dict[str, Any]:
    """A cluster made from the template, or the long way when there is none (then kept as one).
    A user who may not write where templates live (a classroom seat) only reads one there."""
    from dselab.runtime import template as templates

    kept = templates.lab_template(runtime, data_version())
    if not kept.writable():
        return _from_shared(runtime, kept, progress)
    with kept.locked(progress.step):
        if kept.exists():
            progress.step(f"checking the cluster template {kept.short}")
            try:
                return _clone(runtime, kept, kept.verify(), progress)
            except templates.TemplateRefused as why:
                progress.step(f"cluster template {kept.short} refused ({why}); making it again")
                kept.remove()
        return _first_time_kept(runtime, kept, progress, restart=True)


def _from_shared(runtime: LocalRuntime, kept: Template, progress: Progress) -> dict[str, Any]:
    """A cluster cloned from a template another user keeps; the long way if there is none that
    verifies (nothing is kept: the folder is not ours). No lock is taken (Template.locked is the
    maker's): a template that is replaced while it is read is a refused one."""
    from dselab.runtime import template as templates

    if not kept.exists():
        progress.step(f"no cluster template in {kept.templates}: making the cluster the long way")
        return _first_time(runtime, progress)
    progress.step(f"checking the cluster template {kept.short}")
    try:
        return _clone(runtime, kept, kept.verify(), progress)
    except (templates.TemplateRefused, OSError) as why:
        runtime.down(purge=True)  # whatever of the clone was laid down or started
        progress.step(f"cluster template {kept.short} refused ({why}): making the cluster the long way")
    return _first_time(runtime, progress)


def _clone(runtime: LocalRuntime, kept: Template, manifest: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from dselab.runtime import template as templates

    linked, copied = kept.clone(manifest, templates.node_roots(runtime))
    progress.step(f"cluster made from template {kept.short} ({linked} files linked, {copied} copied);"
                  " starting the nodes")
    runtime.up_nodes(runtime.node_names(), members=True)
    wait_for_ring(runtime, LAB_NODES[0], list(LAB_NODES), progress)
    made: dict[str, Any] = manifest["record"]
    return {**made, "loaded_at": time.time(), "node2_joined_at": time.time(),
            "cassandra_version": runtime.cassandra_version()}


def _first_time_kept(runtime: LocalRuntime, kept: Template, progress: Progress, restart: bool) -> dict[str, Any]:
    """The long way, then the cluster kept as the template (held under the template's lock)."""
    record = _first_time(runtime, progress)
    expected = {t: fp.to_dict() for t, fp in environment.expected_fingerprint().items()}
    if record["fingerprint"] == expected:
        _keep(runtime, kept, record, progress, restart)
    else:  # never keep a cluster whose data is not the environment's as the template of all later ones
        progress.step("the training data does not have its expected fingerprint: no cluster template kept")
    return record


def build_template(runtime: Runtime, progress: Progress) -> str:
    """Make sure the cluster template for this runtime's settings is there and intact, making it if
    not; no cluster is left running. What was done, in one line."""
    from dselab.runtime import template as templates

    local = templated(runtime)
    if local is None:
        raise UsageError("a cluster template is made only by the local runtime, with templates on, "
                         "in a home that has no lab cluster",
                         fix=f"`dselab down --purge` first; unset {TEMPLATE_ENV}=0; or use --runtime local")
    kept = templates.lab_template(local, data_version())
    if not kept.writable():
        raise EnvironmentProblem(f"the cluster template folder {kept.templates} is not writable",
                                 fix=f"set {TEMPLATE_DIR_ENV} to a folder of yours")
    with kept.locked(progress.step):
        if kept.exists():
            try:
                kept.verify()
                return f"cluster template {kept.short} is ready ({kept.folder})"
            except templates.TemplateRefused as why:
                progress.step(f"cluster template {kept.short} refused ({why}); making it again")
                kept.remove()
        try:
            _first_time_kept(local, kept, progress, restart=False)
        finally:
            local.down(purge=True)
    if not kept.exists():
        raise EnvironmentProblem("the cluster came up but its data was not as expected: no template was kept",
                                 fix="run `dselab up --fresh` and read what it says")
    return f"cluster template {kept.short} made ({kept.folder})"


def _keep(runtime: LocalRuntime, kept: Template, record: dict[str, Any], progress: Progress,
          restart: bool = True) -> None:
    """Drain and stop the ready cluster, keep its state as the template, start it again (`restart`)."""
    from dselab.runtime import template as templates

    progress.step(f"keeping this cluster as template {kept.short} (drain, stop, copy" + (", start)" if restart else ")"))
    with ThreadPoolExecutor(len(LAB_NODES)) as pool:  # one after another took 12 s of a 45 s first up
        drains = list(pool.map(lambda node: runtime.nodetool(node, ["drain"], timeout=300), LAB_NODES))
    failed = [f"{node}: {' '.join(last_lines(res.stdout + res.stderr, 1))}"
              for node, res in zip(LAB_NODES, drains, strict=True) if not res.ok]
    if failed:
        raise EnvironmentProblem(f"nodetool drain failed before the cluster was kept as a template ({'; '.join(failed)})",
                                 fix="`dselab down --purge`, then `dselab up --fresh` makes the cluster without a template")
    runtime.down()
    count = kept.capture(templates.node_roots(runtime), record,
                         templates.lab_key_parts(runtime, data_version()))
    progress.done(f"cluster template {kept.short} kept ({count} files, in {kept.folder})")
    if restart:
        runtime.up_nodes(runtime.node_names(), members=True)
        wait_for_ring(runtime, LAB_NODES[0], list(LAB_NODES), progress)


def wait_for_ring(runtime: Runtime, observer: str, nodes: list[str], progress: Progress,
                  timeout: float = 90) -> None:
    """Until `observer` sees every node of `nodes` up (UN): a node listening for CQL may not yet be
    alive in the seed's gossip, and the load writes at consistency ALL."""
    from dselab.nodetool_output import parse_status

    wanted = {runtime.address(n) for n in nodes}
    deadline = time.monotonic() + timeout
    while True:
        res = runtime.nodetool(observer, ["status"], timeout=60)
        up = {row.address for row in parse_status(res.stdout) if row.state == "UN"} if res.ok else set()
        if wanted <= up or time.monotonic() > deadline:
            return  # past the deadline the load itself reports what is wrong
        progress.step(f"waiting for {observer} to see {', '.join(sorted(wanted - up))} up")
        time.sleep(1)

