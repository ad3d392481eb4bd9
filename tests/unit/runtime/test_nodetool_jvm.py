"""Client JVM flags: a serial filter that ends in `!*` for every tool, and for nodetool none of the
server's --add-opens."""

from __future__ import annotations

from pathlib import Path

from dselab.runtime.local_config import JAVA17_MODULE_FLAGS, tool_jvm_args
from dselab.runtime.nodetool_jvm import SERIAL_FILTER


def test_nodetool_gets_the_filter_and_only_the_exports_it_needs() -> None:
    flags = tool_jvm_args(Path("/conf"), nodetool=True)
    (serial,) = [f for f in flags if f.startswith("-Djdk.serialFilter=")]
    assert serial == f"-Djdk.serialFilter={SERIAL_FILTER}"
    patterns = SERIAL_FILTER.split(";")
    assert patterns[-1] == "!*" and "maxdepth=20" in patterns  # everything not listed is rejected
    assert patterns.index("!javax.management.BadAttributeValueExpException") < patterns.index("javax.management.*")
    assert not [p for p in patterns if p.endswith(".**") or p in ("*", "java.util.*", "java.rmi.server.*")]
    assert not [f for f in flags if f.startswith("--add-opens")]


def test_sstableloader_keeps_the_server_module_flags_under_the_same_filter() -> None:
    flags = tool_jvm_args(Path("/conf"), nodetool=False)
    assert f"-Djdk.serialFilter={SERIAL_FILTER}" in flags
    assert set(JAVA17_MODULE_FLAGS) <= set(flags)
