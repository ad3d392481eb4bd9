"""Per-node configuration of the local runtime: addresses, ports, directories, JVM options.

The lab cluster lives on 127.0.55.x (not 127.0.0.1) so it cannot collide with a Cassandra the
user already runs on the default address; `DSELAB_LOOPBACK` moves it (the tests use another
range so a developer's own lab keeps running). On Linux all of 127.0.0.0/8 answers without
aliases (macOS needs them: see preflight). The addresses, ports, home and heap come from a
LocalSettings value (local_settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dselab.runtime.base import LAB_NODES, RESTORE_NODE
from dselab.runtime.local_settings import LocalSettings
from dselab.runtime.nodetool_jvm import (
    LEGACY_ALLOWED,
    LEGACY_MODULE_FLAGS,
    NODETOOL_MODULE_FLAGS,
    SERIAL_FILTER_FLAG,
    serial_filter_flag,
)

STORAGE_PORT = 7000
NATIVE_PORT = 9042
VNODES = 16  # num_tokens of every node


def interleaved_tokens(index: int, nodes: int, vnodes: int = VNODES) -> tuple[int, ...]:
    """Node `index` of `nodes` that start together: `vnodes` Murmur3 tokens, the whole ring cut
    into nodes * vnodes equal ranges, the nodes' tokens taking turns around it. Each sits mid-range,
    so none is the partitioner's minimum token (-2**63), which no node may own."""
    step = 2**64 // (nodes * vnodes)
    return tuple(-(2**63) + (k * nodes + index) * step + step // 2 for k in range(vnodes))


@dataclass(frozen=True)
class NodeSpec:
    name: str
    address: str
    jmx_port: int
    cluster_name: str
    seeds: str
    auto_bootstrap: bool
    root: Path  # the node's own folder: conf/, data/, commitlog/, logs/ ...
    heap_mb: int
    profile: str = "default"  # or "small": see SMALL_NODE_YAML
    # Tokens given up front (initial_token) to a node that does not bootstrap. A node without
    # them allocates its own (allocate_tokens_for_local_replication_factor), and that waits:
    # a seed sleeps ring_delay_ms for a schema it will never receive, a second node waits for
    # the seed's schema. Measured: see benchmarks/cold_up.py. dse-node-2 has none: it bootstraps.
    initial_tokens: tuple[int, ...] = ()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def pid_file(self) -> Path:
        return self.root / "cassandra.pid"


def node_specs(cluster: str, settings: LocalSettings) -> dict[str, NodeSpec]:
    """The nodes of the "lab" or the "restore" cluster under these settings."""
    return lab_specs(settings) if cluster == "lab" else restore_specs(settings)


def lab_specs(settings: LocalSettings) -> dict[str, NodeSpec]:
    """dse-seed, dse-node-1, dse-node-2. Only dse-node-2 bootstraps: it joins a ring with data."""
    root = settings.cluster_root("lab")
    specs = {}
    for i, name in enumerate(LAB_NODES):
        specs[name] = NodeSpec(
            name=name,
            address=settings.address(i + 1),
            jmx_port=settings.jmx_base + 100 * i,
            cluster_name="dselab",
            seeds=f"{settings.address(1)}:{STORAGE_PORT}",
            auto_bootstrap=(name == "dse-node-2"),
            root=root / name,
            heap_mb=settings.heap_mb,
            profile=settings.profile,
            initial_tokens=() if name == "dse-node-2" else interleaved_tokens(i, 2),
        )
    return specs


def restore_specs(settings: LocalSettings) -> dict[str, NodeSpec]:
    """A separate one-node cluster, the target of the sstableloader restore."""
    address = settings.address(4)
    return {
        RESTORE_NODE: NodeSpec(
            name=RESTORE_NODE,
            address=address,
            jmx_port=settings.jmx_base + 300,
            cluster_name="dselab-restore",
            seeds=f"{address}:{STORAGE_PORT}",
            auto_bootstrap=False,
            root=settings.cluster_root("restore") / RESTORE_NODE,
            heap_mb=settings.heap_mb,
            profile=settings.profile,
            initial_tokens=interleaved_tokens(0, 1),
        )
    }


def initial_token_yaml(spec: NodeSpec) -> str:
    """The `initial_token:` line (with its newline), or nothing for a node that picks its own."""
    return f"initial_token: {','.join(map(str, spec.initial_tokens))}\n" if spec.initial_tokens else ""


def cassandra_yaml(spec: NodeSpec) -> str:
    root = spec.root
    return f"""# written by dselab for node {spec.name}
cluster_name: {spec.cluster_name}
num_tokens: {VNODES}
{initial_token_yaml(spec)}allocate_tokens_for_local_replication_factor: 2
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{spec.seeds}"
listen_address: {spec.address}
rpc_address: {spec.address}
storage_port: {STORAGE_PORT}
native_transport_port: {NATIVE_PORT}
start_native_transport: true
auto_bootstrap: {str(spec.auto_bootstrap).lower()}
data_file_directories:
  - {root / "data"}
commitlog_directory: {root / "commitlog"}
saved_caches_directory: {root / "saved_caches"}
hints_directory: {root / "hints"}
cdc_raw_directory: {root / "cdc_raw"}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
endpoint_snitch: SimpleSnitch
incremental_backups: false
concurrent_compactors: 1
compaction_throughput: 0MiB/s
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
dynamic_snitch: true
read_request_timeout: 10000ms
write_request_timeout: 10000ms
range_request_timeout: 20000ms
request_timeout: 20000ms
""" + (SMALL_NODE_YAML if spec.profile == "small" else "")


# The "small" profile (LocalSettings.profile, DSELAB_NODE_PROFILE=small): settings that passed the
# whole of lab 05 at about 590 MiB RSS per node (cassandra-facts.md, "Small nodes"), 256 MiB heap
# unless DSELAB_HEAP_MB says otherwise. Classroom seats use it by default.
SMALL_NODE_YAML = """file_cache_size: 16MiB
networking_cache_size: 8MiB
key_cache_size: 0MiB
counter_cache_size: 0MiB
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 4
native_transport_max_threads: 16
memtable_heap_space: 32MiB
memtable_offheap_space: 32MiB
"""
SMALL_NODE_JVM = [
    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
    "-XX:ReservedCodeCacheSize=48m", "-XX:MaxDirectMemorySize=96m", "-XX:MaxMetaspaceSize=160m",
]


# Times in the JVM's default zone (the machine's: no -Duser.timezone), as Cassandra's and DSE's own
# logback.xml write them; the checks read the node's zone with `date +%z` on the node.
LOGBACK_XML = """<configuration scan="false">
  <appender name="SYSTEMLOG" class="ch.qos.logback.core.FileAppender">
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>INFO</level></filter>
    <file>{log_dir}/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <appender name="DEBUGLOG" class="ch.qos.logback.core.FileAppender">
    <file>{log_dir}/debug.log</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="SYSTEMLOG" />
    <appender-ref ref="DEBUGLOG" />
  </root>
  <logger name="org.apache.cassandra.db.compaction" level="DEBUG"/>
</configuration>
"""

TOOLS_LOGBACK_XML = """<configuration scan="false">
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%-5level %date{ISO8601} %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR" /></root>
</configuration>
"""

# Java 17 module flags Cassandra 5.0 needs (its conf/jvm17-server.options, JPMS section).
JAVA17_MODULE_FLAGS = [
    "-Djdk.attach.allowAttachSelf=true",
    *[f"--add-exports={m}=ALL-UNNAMED" for m in (
        "java.base/jdk.internal.misc", "java.management.rmi/com.sun.jmx.remote.internal.rmi",
        "java.rmi/sun.rmi.registry", "java.rmi/sun.rmi.server", "java.sql/java.sql",
        "java.base/java.lang.ref", "jdk.unsupported/sun.misc",
        "jdk.compiler/com.sun.tools.javac.file", "jdk.attach/sun.tools.attach",
    )],
    *[f"--add-opens={m}=ALL-UNNAMED" for m in (
        "java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
        "java.base/jdk.internal.reflect", "java.base/jdk.internal.math",
        "java.base/jdk.internal.module", "java.base/jdk.internal.util.jar",
        "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch", "java.base/java.io",
        "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac", "java.base/java.lang",
        "java.base/java.util",
    )],
    "-Dio.netty.tryReflectionSetAccessible=true",
]


# Cassandra's RING_DELAY (default 30 s): how long a joining node sleeps so that every node knows its
# pending ranges before it streams, and how long a shadow round waits for the seed. On loopback
# gossip crosses in well under a second.
RING_DELAY_MS = 3000


# How long a stopping node sleeps after it tells its peers it is going down (Cassandra's default
# 2000 ms; its in-JVM dtests use 0). On loopback the message arrives within a millisecond: 200 ms
# takes about 1.8 s off every clean stop (a restart in lab 05b's steps, a restore's node stops).
SHUTDOWN_ANNOUNCE_MS = 200


# Cassandra measures a memtable row's heap overhead when its first table opens, by filling a skip
# list of 100,000 entries (cassandra.memtable_row_overhead_computation_step). On C1-only code with
# three nodes starting on 2 cores that took 4.8 s of every node's start; the answer only scales
# memtable accounting. 180 is what Cassandra 5.0.9 measured here on Java 17 ("Estimated
# SkipListMemtable row overhead: 180" in system.log). Up from the template: 17-22 s -> 11.4-12.7 s.
MEMTABLE_ROW_OVERHEAD = 180

# The lab allows every login (AllowAllAuthenticator), so the default superuser is never needed; at
# 0 ms Cassandra retries its setup in a busy loop until every node is up (up to 3,400 warnings in a
# node's system.log, which students read). Once a second is quiet and costs no start time.
SUPERUSER_SETUP_DELAY_MS = 1000


# Nodes that have all joined before and start at the same time skip the shadow round, the gossip
# exchange that checks no other live node claims this node's address before it joins. A node asks
# once as it begins to listen and again only after 5 s; starting together on 2 cores, the nodes'
# connections took 2-3 s to come up, the seed's one question went unanswered, and it waited out the
# whole ring delay ("Unable to gossip with any peers") before going on. Here no other node can
# claim the address: these nodes are the whole cluster, each with its own address and the system
# keyspace of its earlier join, and preflight has found their ports free. A node started alone, or
# one that joins for the first time, keeps the check: what a student breaks by wiping a node's
# data is refused as Cassandra refuses it. Up from the template: 10.9-13.3 s -> 7.0-8.7 s.
MEMBERS_TOGETHER_FLAGS = ["-Dcassandra.allow_unsafe_join=true"]


# A stopping node first waits for its outgoing message queues to empty. When the nodes of a cluster
# stop at the same moment, one of them had often reconnected to a peer that was already gone, and
# waited out that message's 20 s timeout (range_request_timeout): `dselab down` took 3.5 s or 21 s,
# about every other time, and so did the drains of a restore. The node has stopped serving clients
# and announced its shutdown by then; the flushes that make a clean stop come after. Closing the
# connections at once (what Cassandra's in-JVM tests do): `dselab down` 1.4-1.6 s, every time, and
# the next start replays no commit log.
ABRUPT_MESSAGING_STOP = "-Dcassandra.test.messagingService.nonGracefulShutdown=true"


# A lab node compiles with C1 only. C2's compiler threads took a third to a half of a node start's
# CPU (a seed alone: 31-40 CPU-s against 21-22, benchmarks/node_start.py), and three nodes start at
# once on a small machine: `dselab up` of a stopped cluster took 58-62 s against 89-114 s on the
# 2-core machine under load. A lab's work (12,000 rows, a cleanup, a restore) never needs C2's peak
# speed; seats ran C1 only before.
DEFAULT_NODE_JVM = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=300", "-XX:+ParallelRefProcEnabled",
                    "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=2"]


def server_jvm_args(spec: NodeSpec, jamm: Path | None) -> list[str]:
    heap = spec.heap_mb
    collector = SMALL_NODE_JVM if spec.profile == "small" else DEFAULT_NODE_JVM
    args = [
        f"-Xms{heap}m", f"-Xmx{heap}m", f"-Xmn{max(64, heap // 4)}m", "-Xss256k",
        *collector, "-Djava.net.preferIPv4Stack=true",
        f"-Dcassandra.jmx.local.port={spec.jmx_port}",
        "-Djava.rmi.server.hostname=127.0.0.1",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        f"-Dcassandra.ring_delay_ms={RING_DELAY_MS}",
        f"-Dcassandra.superuser_setup_delay_ms={SUPERUSER_SETUP_DELAY_MS}",
        f"-Dcassandra.memtable.row_overhead_size={MEMTABLE_ROW_OVERHEAD}",
        f"-Dcassandra.shutdown_announce_in_ms={SHUTDOWN_ANNOUNCE_MS}",
        ABRUPT_MESSAGING_STOP,
        f"-Dcassandra.config=file://{spec.conf_dir / 'cassandra.yaml'}",
        f"-Dcassandra.logdir={spec.log_dir}",
        f"-Dcassandra.storagedir={spec.root}",
        f"-Dlogback.configurationFile=file://{spec.conf_dir / 'logback.xml'}",
        "-Dcassandra-foreground=yes",
        *JAVA17_MODULE_FLAGS,
    ]
    if jamm:
        args.insert(0, f"-javaagent:{jamm}")
    return args


def tools_conf_dir(spec: NodeSpec, tools_conf: Path | None = None) -> Path:
    """Where client tools (nodetool, sstableloader) read their logging config and classpath head:
    the node's conf/, or DSELAB_TOOLS_CONF. A classroom's grader runs nodetool as root against a
    seat's nodes, so it must never read files the seat user can write (a logback config or a class
    in conf/ would run as root)."""
    return tools_conf or spec.conf_dir


# A JMX port that accepts and never answers (a hung node, or a port a classroom seat planted a stub
# on) held a client in RMI's handshake for Java's default 60 s before the call failed. A node on
# loopback answers it in milliseconds even on a loaded machine: 10 s fails such a call 6x sooner.
JMX_HANDSHAKE_TIMEOUT_MS = 10_000


def tool_jvm_args(conf_dir: Path, nodetool: bool, legacy: bool = False) -> list[str]:
    """Short-lived client JVMs (nodetool, sstableloader): small heap, fast start, and the serial
    filter (nodetool_jvm.py; sstableloader deserializes nothing, so it costs it nothing). nodetool
    gets only the two module flags it needs; sstableloader loads Cassandra's internals and keeps
    the server's. `legacy`: the 3.11 nodetool's (legacy_nodetool.py) wider filter and module flags."""
    if legacy:
        return [*tool_jvm_args(conf_dir, nodetool=True)[:-len(NODETOOL_MODULE_FLAGS) - 1],
                serial_filter_flag(LEGACY_ALLOWED), *NODETOOL_MODULE_FLAGS, *LEGACY_MODULE_FLAGS]
    return [
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
        "-XX:-UsePerfData",  # no hsperfdata file in /tmp (shared by a classroom's users) for a short JVM
        "-Djava.net.preferIPv4Stack=true",
        f"-Dsun.rmi.transport.tcp.handshakeTimeout={JMX_HANDSHAKE_TIMEOUT_MS}",
        f"-Dlogback.configurationFile=file://{conf_dir / 'logback-tools.xml'}",
        SERIAL_FILTER_FLAG, *(NODETOOL_MODULE_FLAGS if nodetool else JAVA17_MODULE_FLAGS),
    ]
