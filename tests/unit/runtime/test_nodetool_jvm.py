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


def test_every_tool_jvm_writes_no_perf_data_and_an_observer_sets_no_java_tool_options(tmp_path: Path) -> None:
    """-XX:-UsePerfData as a flag, not JAVA_TOOL_OPTIONS: the JVM prints "Picked up JAVA_TOOL_OPTIONS"
    on stderr for the latter, and that line reached the evidence a student and instructor read."""
    from dselab.classroom.host.observe import observer_env
    from dselab.classroom.host.seats import HostSeat
    from dselab.classroom.host.toolchain import Toolchain
    from dselab.classroom.layout import Layout
    from dselab.classroom.registry import Seat

    for flags in (tool_jvm_args(Path("/conf"), nodetool=True), tool_jvm_args(Path("/conf"), nodetool=False),
                  tool_jvm_args(Path("/conf"), nodetool=True, legacy=True)):
        assert "-XX:-UsePerfData" in flags
    layout = Layout(tmp_path)
    seat = HostSeat.of(layout, Seat.planned(layout, "alice"))
    env = observer_env(layout, seat, Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache"))
    assert "JAVA_TOOL_OPTIONS" not in env and env["DSELAB_TOOLS_CONF"] == str(layout.tools_conf)
    # Its warm nodetool server lives in its own home, never in the seat's folders.
    assert env["DSELAB_WARM_NODETOOL_DIR"] == str(layout.observer_home(seat.observer) / "run")
