"""reason_line: a failed command's one-line error carries the line that says what went wrong."""

from __future__ import annotations

import pytest

from dselab.command_failure import reason_line

NODETOOL_SNAPSHOT_EXISTS = """\
error: Snapshot lab_backup already exists.
-- StackTrace --
java.io.IOException: Snapshot lab_backup already exists.
\tat org.apache.cassandra.service.snapshot.SnapshotManager.takeSnapshot(SnapshotManager.java:182)
\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
\tat java.base/java.lang.Thread.run(Thread.java:840)
"""


@pytest.mark.parametrize(("stderr", "stdout", "reason"), [
    (NODETOOL_SNAPSHOT_EXISTS, "", "error: Snapshot lab_backup already exists."),
    ("java.lang.RuntimeException: boom\n\tat a.b.C.d(C.java:1)\n\t... 12 more\n", "", "java.lang.RuntimeException: boom"),
    ("dselab: error: dse-node-2 is not running (start it: dselab node start dse-node-2)\n", "",
     "dselab: error: dse-node-2 is not running (start it: dselab node start dse-node-2)"),
    ("WARNING: an illegal reflective access\n", "[INFO] x\n[ERROR] Failed to execute goal on project\n[INFO] y",
     "[ERROR] Failed to execute goal on project"),
    ("", "Keyspace 'nope' does not exist\n", "Keyspace 'nope' does not exist"),
    ("", "", "(no output)"),
    ("x" * 1000, "", "x" * 297 + "..."),
], ids=["nodetool", "java-frames", "dselab", "maven", "stdout-only", "nothing", "long"])
def test_reason_line(stderr: str, stdout: str, reason: str) -> None:
    assert reason_line(stderr, stdout) == reason
