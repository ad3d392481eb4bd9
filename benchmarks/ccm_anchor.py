"""ccm beside dselab (issue 17's anchor): the same cold start with data, stop and restart, driven by
ccm (PyPI `ccm`, its own commands and start flags) on the same Cassandra jars.

    .venv/bin/python benchmarks/ccm_anchor.py     # ccm alone; benchmarks/template.py runs it beside dselab

ccm wants a Cassandra install folder (bin/, conf/, lib/). Cassandra's binary tarball is not served
here, only its Maven jars, so `make_install` writes one around the jars dselab fetched:
- lib/: the jars (a link to dselab's cache);
- bin/cassandra: a launcher written here (not Cassandra's script). It starts CassandraDaemon with
  the JVM settings of Cassandra 5.0's stock conf/jvm-server.options and jvm17-server.options
  (STOCK_JVM: assertions on, G1, pre-touched heap...), the jamm agent, and what ccm hands over: its
  heap (MAX_HEAP_SIZE, 500M by default), the JMX port it wrote into conf/cassandra-env.sh, its
  -D properties and JVM_EXTRA_OPTS; it backgrounds the JVM and writes the pid file ccm asks for;
- bin/nodetool: nodetool from the same jars (ccm's `flush` calls it);
- conf/cassandra.yaml: the lab's node settings (dselab's cassandra.yaml, 16 vnodes), of which ccm
  rewrites the cluster name, addresses, folders, seeds, tokens and auto_bootstrap, as it does for any
  install; conf/logback.xml writes system.log where ccm watches it.
None of dselab's own start flags (no skipped gossip settle, no short ring delay, no C1-only, no
class archive) reach ccm's nodes: they start as ccm starts any Cassandra.

The cold start with data is the lab's: two nodes start, the training keyspace and its 12,000 rows
are loaded at consistency ALL in the same batches dselab uses, both nodes flush, then a third node
is added with auto_bootstrap and started (ccm's `add -b`), as dse-node-2 joins. ccm runs from its
own venv (build/ccm-venv, made on first use) with its config in build/ccm-config; the nodes live on
127.0.63.x (BENCH_CCM_NET), JMX 7100, 7200, 7300 (ccm's defaults).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CCM_VERSION = "3.1.5"
VENV = REPO / "build" / "ccm-venv"
CONFIG = REPO / "build" / "ccm-config"
INSTALL = REPO / "build" / "ccm-install"
CLUSTER = "dselab_bench"
NET = os.environ.get("BENCH_CCM_NET", "127.0.63")
VNODES = 16  # local_config.VNODES

# Cassandra 5.0's stock server settings on Java 17 (conf/jvm-server.options, jvm17-server.options),
# the module flags aside (local_config.JAVA17_MODULE_FLAGS carries the same list).
STOCK_JVM = [
    "-ea", "-da:net.openhft...", "-XX:+UseThreadPriorities", "-XX:+HeapDumpOnOutOfMemoryError",
    "-Xss256k", "-XX:+AlwaysPreTouch", "-XX:+UseTLAB", "-XX:+ResizeTLAB", "-XX:+UseNUMA",
    "-XX:+PerfDisableSharedMem", "-Djava.net.preferIPv4Stack=true",
    "-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled", "-XX:MaxTenuringThreshold=1", "-XX:G1HeapRegionSize=16m",
    "-XX:G1RSetUpdatingPauseTimePercent=5", "-XX:MaxGCPauseMillis=300", "-XX:InitiatingHeapOccupancyPercent=70",
    "-Dio.netty.allocator.useCacheForAllThreads=true", "-Dio.netty.allocator.maxOrder=11",
]

LAUNCHER = """#!/bin/sh
# Written by dselab's benchmarks/ccm_anchor.py, not Cassandra's bin/cassandra (its tarball is not
# served here): CassandraDaemon from the Maven jars with the stock JVM settings and what ccm passes.
pidfile=
props=
while [ $# -gt 0 ]; do
  case "$1" in
    -p) pidfile=$2; shift 2 ;;
    -D*) props="$props $1"; shift ;;
    *) shift ;;
  esac
done
. "$CASSANDRA_CONF/cassandra-env.sh"
node_dir=$(dirname "$CASSANDRA_CONF")
# shellcheck disable=SC2086  # option lists, split on purpose
nohup {java} {jvm} -Xms"${{MAX_HEAP_SIZE:-500M}}" -Xmx"${{MAX_HEAP_SIZE:-500M}}" \\
  -Dcassandra.jmx.local.port="$JMX_PORT" -Djava.rmi.server.hostname=127.0.0.1 \\
  -Dcassandra.config="file://$CASSANDRA_CONF/cassandra.yaml" -Dcassandra.storagedir="$node_dir" \\
  -Dlogback.configurationFile="file://$CASSANDRA_CONF/logback.xml" -Dcassandra-foreground=yes \\
  $JVM_EXTRA_OPTS $props -cp "$CASSANDRA_CONF:$CASSANDRA_HOME/lib/*" \\
  org.apache.cassandra.service.CassandraDaemon >"$node_dir/logs/stdout.log" 2>&1 </dev/null &
echo $! >"$pidfile"
"""

NODETOOL = """#!/bin/sh
# nodetool from the same jars (written by dselab's benchmarks/ccm_anchor.py)
exec {java} {jvm} -cp "$CASSANDRA_CONF:$CASSANDRA_HOME/lib/*" org.apache.cassandra.tools.NodeTool "$@"
"""


def make_install(dest: Path = INSTALL) -> Path:
    """A ccm install folder around dselab's Maven jars (see the module's docstring); made afresh."""
    from dselab.runtime import distribution, preflight
    from dselab.runtime.local_config import (
        JAVA17_MODULE_FLAGS,
        LOGBACK_XML,
        TOOLS_LOGBACK_XML,
        cassandra_yaml,
        lab_specs,
        tool_jvm_args,
    )
    from dselab.runtime.local_settings import LocalSettings

    dist = distribution.ensure()
    java = preflight.java_binary()
    shutil.rmtree(dest, ignore_errors=True)
    for sub in ("bin", "conf"):
        (dest / sub).mkdir(parents=True)
    (dest / "lib").symlink_to(dist.lib_dir)
    (dest / "0.version.txt").write_text(dist.version + "\n")
    jvm = [*STOCK_JVM, *JAVA17_MODULE_FLAGS]
    if dist.jamm_agent:
        jvm.insert(0, f"-javaagent:{dist.jamm_agent}")
    launcher = dest / "bin" / "cassandra"
    launcher.write_text(LAUNCHER.format(java=shlex.quote(java), jvm=shlex.join(jvm)))
    tools = shlex.join(a for a in tool_jvm_args(Path("/nowhere"), nodetool=True) if not a.startswith("-Dlogback"))
    tools += ' -Dlogback.configurationFile="file://$CASSANDRA_CONF/logback-tools.xml"'
    (dest / "bin" / "nodetool").write_text(NODETOOL.format(java=shlex.quote(java), jvm=tools))
    (dest / "bin" / "cassandra.in.sh").write_text("CASSANDRA_HOME=\nCASSANDRA_CONF=\n")
    for script in ("cassandra", "nodetool", "cassandra.in.sh"):
        (dest / "bin" / script).chmod(0o755)
    seed = lab_specs(LocalSettings(home=dest / "unused"))["dse-seed"]
    (dest / "conf" / "cassandra.yaml").write_text(cassandra_yaml(seed))
    (dest / "conf" / "cassandra-env.sh").write_text('JMX_PORT="7199"\n')
    (dest / "conf" / "logback.xml").write_text(LOGBACK_XML.format(log_dir="${cassandra.logdir}"))
    (dest / "conf" / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)
    return dest


def ccm_binary() -> Path:
    """ccm in its own venv (made on first use: PyPI `ccm`)."""
    ccm = VENV / "bin" / "ccm"
    if not ccm.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", f"ccm=={CCM_VERSION}"], check=True)
    return ccm


def ccm(*args: str) -> float:
    """Wall time of one ccm command (its output into build/ccm-bench.log); a failure stops the run."""
    log = REPO / "build" / "ccm-bench.log"
    with log.open("a") as out:
        out.write(f"\n$ ccm {' '.join(args)}\n")
        out.flush()
        began = time.monotonic()
        proc = subprocess.run([str(ccm_binary()), *args, "--config-dir", str(CONFIG)], stdout=out,
                              stderr=subprocess.STDOUT, check=False)
        took = time.monotonic() - began
    if proc.returncode != 0:
        raise SystemExit(f"`ccm {' '.join(args)}` failed (exit {proc.returncode}): see {log}")
    return took


def ccm_up(*args: str, nodes: int) -> float:
    """`ccm ... start --wait-for-binary-proto`, then until every node's CQL port answers: ccm stops
    watching a node's log after 60 s (a stock first start takes longer: a 30 s ring delay, the
    gossip settle wait) and then returns with a warning, not with the node ready."""
    began = time.monotonic()
    ccm(*args, "start", "--wait-for-binary-proto")
    for index in range(1, nodes + 1):
        while True:
            try:
                socket.create_connection((f"{NET}.{index}", 9042), timeout=2).close()
                break
            except OSError:
                if time.monotonic() - began > 600:
                    raise SystemExit(f"ccm's node{index} did not answer CQL within 600 s") from None
                time.sleep(0.2)
    return time.monotonic() - began


def load_training_data() -> float:
    """The lab's schema and 12,000 rows at consistency ALL, in dselab's batches; seconds taken."""
    from cassandra import ConsistencyLevel
    from cassandra.cluster import Cluster
    from cassandra.concurrent import execute_concurrent_with_args

    from dselab import environment

    began = time.monotonic()
    cluster = Cluster([f"{NET}.1"], port=9042, protocol_version=5)
    try:
        session = cluster.connect()
        for statement in environment.SCHEMA:
            session.execute(statement)
        by_size: dict[int, list[tuple[object, ...]]] = {}
        for size, values in environment.customer_batches():
            by_size.setdefault(size, []).append(values)
        for size, rows in by_size.items():
            prepared = session.prepare(environment.batch_cql(size))
            prepared.consistency_level = ConsistencyLevel.ALL
            execute_concurrent_with_args(session, prepared, rows, concurrency=32, raise_on_first_error=True)
    finally:
        cluster.shutdown()
    return time.monotonic() - began


def remove_cluster() -> None:
    """The benchmark's ccm cluster, gone (its nodes stopped first)."""
    if (CONFIG / CLUSTER).exists():
        subprocess.run([str(ccm_binary()), "remove", CLUSTER, "--config-dir", str(CONFIG)],
                       capture_output=True, check=False)
    shutil.rmtree(CONFIG / CLUSTER, ignore_errors=True)


def run(restarts: int = 2) -> dict[str, object]:
    """One cold start with data, then `restarts` stop/start cycles; seconds per phase. The ccm
    cluster is removed afterwards, whatever happened."""
    CONFIG.mkdir(parents=True, exist_ok=True)
    remove_cluster()
    install = make_install()
    try:
        began = time.monotonic()
        ccm("create", CLUSTER, "--install-dir", str(install), "-n", "2", "-i", f"{NET}.", "--vnodes")
        ccm("updateconf", f"num_tokens: {VNODES}")  # ccm's --vnodes means 256; the lab's nodes have 16
        nodes_up = ccm_up(nodes=2)
        load = load_training_data()
        flush = ccm("flush")
        ccm("add", "node3", "-i", f"{NET}.3", "-j", "7300", "-b")
        bootstrap = ccm_up("node3", nodes=3)
        cold = time.monotonic() - began
        stops, starts = [], []
        for _ in range(restarts):
            stops.append(round(ccm("stop"), 1))
            starts.append(round(ccm_up(nodes=3), 1))
    finally:
        remove_cluster()
    return {"ccm": CCM_VERSION, "cold_up_with_data_s": round(cold, 1),
            "phases_s": {"two_nodes_up": round(nodes_up, 1), "data_load": round(load, 1),
                         "flush": round(flush, 1), "third_node_bootstrap": round(bootstrap, 1)},
            "stop_s": stops, "restart_data_kept_s": starts}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
