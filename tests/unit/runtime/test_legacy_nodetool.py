"""The 3.11 nodetool's stderr: the un-mmaper warning its FileUtils logs on Java 17 goes, the rest stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab.runtime import distribution, legacy_nodetool
from dselab.runtime.local_config import tool_jvm_args
from dselab.runtime.nodetool_jvm import LEGACY_ALLOWED, SERIAL_FILTER_FLAG

# As the 3.11.19 client printed it on Java 17 against a 5.0.9 node (tablestats, which fails there).
UNMMAPER = ("ERROR 2026-11-30 11:15:38,345 Cannot initialize un-mmaper.  (Are you using a non-Oracle JVM?)  "
            "Compacted data files will not be removed promptly.  Consider using an Oracle JVM or using standard "
            "disk access mode\n") + """\
java.lang.NoSuchMethodError: 'sun.misc.Cleaner sun.nio.ch.DirectBuffer.cleaner()'
\tat org.apache.cassandra.io.util.FileUtils.<clinit>(FileUtils.java:75)
\tat org.apache.cassandra.utils.FBUtilities.getToolsOutputDirectory(FBUtilities.java:880)
\tat org.apache.cassandra.tools.NodeTool.printHistory(NodeTool.java:216)
\tat org.apache.cassandra.tools.NodeTool.execute(NodeTool.java:184)
\tat org.apache.cassandra.tools.NodeTool.main(NodeTool.java:56)
\tat LegacyNodetool.main(LegacyNodetool.java:26)
"""
ERROR = """\
error: org.apache.cassandra.metrics:type=Table,keyspace=training,scope=customers,name=DroppedMutations
-- StackTrace --
javax.management.InstanceNotFoundException: org.apache.cassandra.metrics:type=Table,keyspace=training
\tat java.management/com.sun.jmx.interceptor.DefaultMBeanServerInterceptor.getMBean(DefaultMBeanServerInterceptor.java:1088)
"""


def test_the_unmmaper_trace_goes_and_nodetools_own_error_stays() -> None:
    assert legacy_nodetool.without_unmmaper_trace(UNMMAPER) == ""
    assert legacy_nodetool.without_unmmaper_trace(UNMMAPER + ERROR) == ERROR
    assert legacy_nodetool.without_unmmaper_trace(ERROR) == ERROR
    assert legacy_nodetool.without_unmmaper_trace("") == ""


def test_the_client_is_fetched_and_checked_like_the_nodes_jars() -> None:
    assert distribution.PINNED_SHA256[legacy_nodetool.VERSION]
    assert legacy_nodetool.SOURCE.is_file() and legacy_nodetool.MAIN_CLASS in legacy_nodetool.SOURCE.read_text()


def test_its_jvm_gets_a_wider_filter_for_node_addresses_only() -> None:
    plain = tool_jvm_args(Path("/conf"), nodetool=True)
    legacy = tool_jvm_args(Path("/conf"), nodetool=True, legacy=True)
    (flag,) = [f for f in legacy if f.startswith("-Djdk.serialFilter=")]
    assert SERIAL_FILTER_FLAG in plain and flag != SERIAL_FILTER_FLAG
    assert flag.endswith(";".join((*LEGACY_ALLOWED, "!*")))
    assert set(legacy) - set(plain) == {flag, "--add-opens=java.base/java.nio=ALL-UNNAMED"}


def test_no_javac_is_one_line_naming_the_way_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab.errors import EnvironmentProblem
    from dselab.runtime import java_helpers
    from dselab.settings import Settings

    dist = distribution.Distribution(version=legacy_nodetool.VERSION, lib_dir=tmp_path, source="maven cache")
    monkeypatch.setattr(distribution, "fetched", lambda *a, **k: dist)
    monkeypatch.setattr(java_helpers.shutil, "which", lambda name: None)
    with pytest.raises(EnvironmentProblem) as err:
        legacy_nodetool.client(str(tmp_path / "bin" / "java"), Settings(home=tmp_path, cache=tmp_path / "cache"))
    assert "could not be compiled: no javac" in err.value.one_line() and "DSELAB_NODETOOL=native" in err.value.one_line()
