"""What a nodetool JVM may deserialize and reach inside the JDK.

nodetool deserializes whatever answers on the node's JMX port, and in a classroom that port is a
seat's: a seat can stop its node and listen there itself. So every nodetool JVM dselab starts (a
student's, the grader's, the observer's; sstableloader's too, which deserializes nothing) gets a
`jdk.serialFilter` that lets through only what
JMX over RMI and nodetool's open types carry, and rejects every other class (`!*`): a gadget
chain (Commons Collections, Spring, ...) on Cassandra's classpath is refused before its
readObject runs. The list was taken from the JDK's own filter trace
(`java.io.serialization` logger at FINER) over every nodetool command the labs, checks and tests
use, on a real Cassandra 5.0 node, errors included; docs/versions.md says how to redo it.
"""

from __future__ import annotations

# Generous bounds on one RMI reply: the largest seen was `listsnapshots` with a few hundred
# snapshot rows (1,862 references, 14 KB, depth 7, arrays of 256); these allow ~500 times that.
LIMITS = ("maxdepth=20", "maxrefs=1000000", "maxbytes=67108864", "maxarray=1000000")

ALLOWED = (
    # Boxed values, strings' companions, and the exceptions a node answers with (java.lang has no
    # gadget; its subpackages, java.lang.reflect.Proxy and java.lang.invoke, are not matched).
    "java.lang.*",
    "java.math.BigInteger", "java.math.BigDecimal",
    "java.io.IOException", "java.io.UncheckedIOException", "java.io.FileNotFoundException",
    "java.util.concurrent.ExecutionException", "java.util.concurrent.TimeoutException",
    # Collections nodetool's MBeans return (maps of lists, sets of names), by name: no PriorityQueue.
    "java.util.ArrayList", "java.util.Arrays$ArrayList", "java.util.LinkedList",
    "java.util.HashMap", "java.util.LinkedHashMap", "java.util.TreeMap",
    "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet",
    "java.util.Map$Entry", "java.util.AbstractMap$SimpleEntry", "java.util.AbstractMap$SimpleImmutableEntry",
    "java.util.Collections$*", "java.util.CollSer", "java.util.UUID", "java.util.Date",
    # JMX: names, attributes, open types (CompositeData, TabularData), its exceptions, the RMI
    # connector's stubs. BadAttributeValueExpException calls toString() on what it carries: refused.
    "!javax.management.BadAttributeValueExpException",
    "javax.management.*", "javax.management.openmbean.*", "javax.management.remote.*",
    "javax.management.remote.rmi.*",
    # RMI: its exceptions, the stub classes, and the DGC lease. Not java.rmi.server.* as a whole:
    # UnicastRemoteObject would export a listener while being read.
    "java.rmi.*", "java.rmi.server.RemoteStub", "java.rmi.server.RemoteObject", "java.rmi.server.UID",
    "java.rmi.server.ObjID", "java.rmi.dgc.Lease", "java.rmi.dgc.VMID",
    # Cassandra's own exception types (plain Throwables, none has a readObject), so its error
    # messages still reach nodetool's `error:` line.
    "org.apache.cassandra.exceptions.*",
)

# The 3.11 nodetool (legacy_nodetool.py) also reads maps keyed by node address: its `status`
# calls effectiveOwnership, whose keys are InetAddress (5.0's own nodetool asks for strings).
# Their readObject only restores fields: no lookup, no call out.
LEGACY_ALLOWED = ("java.net.InetAddress", "java.net.Inet4Address", "java.net.Inet6Address")


def serial_filter_flag(extra: tuple[str, ...] = ()) -> str:
    """The -Djdk.serialFilter flag: ALLOWED plus `extra` (class patterns), every other class refused."""
    return "-Djdk.serialFilter=" + ";".join((*LIMITS, *ALLOWED, *extra, "!*"))


SERIAL_FILTER = ";".join((*LIMITS, *ALLOWED, "!*"))
SERIAL_FILTER_FLAG = serial_filter_flag()

# nodetool needs none of the server's --add-opens: only Cassandra's FileUtils, loaded for the
# command history, reaches two JDK internals (the direct-buffer cleaner).
NODETOOL_MODULE_FLAGS = ["--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                         "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED"]
# 3.11's FileUtils also opens java.nio's direct buffers by reflection (the 3.11 nodetool only).
LEGACY_MODULE_FLAGS = ["--add-opens=java.base/java.nio=ALL-UNNAMED"]
