"""Both runtimes meet the one Runtime protocol: every method, with a compatible signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dselab.runtime.base import COMMAND_TIMEOUT_S, Runtime
from dselab.runtime.compose import ComposeRuntime
from dselab.runtime.local import LocalRuntime
from dselab.runtime.local_settings import LocalSettings

PROTOCOL_METHODS = sorted(name for name, value in vars(Runtime).items()
                          if inspect.isfunction(value) and not name.startswith("_"))
PROTOCOL_ATTRIBUTES = sorted(n for n in Runtime.__annotations__ if n not in PROTOCOL_METHODS)


def signature_problems(cls: type, name: str) -> list[str]:
    """Why `cls.name` cannot stand where the protocol's `name` is called; [] when it can.

    Every parameter the protocol names is there, in the same place, of the same kind, with the
    same default; any extra parameter has a default, so a protocol call never misses it.
    """
    impl = getattr(cls, name, None)
    if not callable(impl):
        return [f"{cls.__name__}.{name} is missing"]
    wanted = list(inspect.signature(getattr(Runtime, name)).parameters.values())
    have = list(inspect.signature(impl).parameters.values())
    problems = []
    for i, param in enumerate(wanted):
        got = have[i] if i < len(have) else None
        where = f"{cls.__name__}.{name}({param.name})"
        if got is None or got.name != param.name or got.kind != param.kind:
            problems.append(f"{where}: parameter missing or moved")
        elif got.default != param.default:
            problems.append(f"{where}: default {got.default!r}, protocol says {param.default!r}")
    for extra in have[len(wanted):]:
        variadic = extra.kind in (extra.VAR_POSITIONAL, extra.VAR_KEYWORD)
        if extra.default is extra.empty and not variadic:
            problems.append(f"{cls.__name__}.{name}({extra.name}): extra parameter without a default")
    return problems


def local(tmp_path: Path) -> LocalRuntime:
    return LocalRuntime("lab", settings=LocalSettings(home=tmp_path))


def compose(tmp_path: Path) -> ComposeRuntime:
    return ComposeRuntime("lab", client=object(), compose_paths=[tmp_path / "docker-compose.yml"])


RUNTIMES: list[Callable[[Path], Any]] = [local, compose]


def test_protocol_lists_the_methods_callers_use() -> None:
    """exists, close, kill_node and log_tail are part of it, not reached through getattr."""
    assert {"exists", "close", "kill_node", "log_tail", "log_since", "log_mark"} <= set(PROTOCOL_METHODS)
    assert PROTOCOL_ATTRIBUTES == ["cluster", "name"]


@pytest.mark.parametrize("make", RUNTIMES, ids=["local", "docker"])
def test_runtime_is_an_instance_of_the_protocol(make: Callable[[Path], Any], tmp_path: Path) -> None:
    runtime = make(tmp_path)
    assert isinstance(runtime, Runtime)
    assert runtime.cluster == "lab" and runtime.name in ("local", "docker")


@pytest.mark.parametrize("cls", [LocalRuntime, ComposeRuntime], ids=["local", "docker"])
@pytest.mark.parametrize("method", PROTOCOL_METHODS)
def test_every_protocol_method_has_a_compatible_signature(cls: type, method: str) -> None:
    assert signature_problems(cls, method) == []


def test_command_timeouts_are_the_one_constant() -> None:
    for cls in (LocalRuntime, ComposeRuntime, Runtime):
        for method in ("nodetool", "tool", "exec"):
            assert inspect.signature(getattr(cls, method)).parameters["timeout"].default == COMMAND_TIMEOUT_S
        assert inspect.signature(cls.log_since).parameters["debug"].default is True


def test_the_signature_check_catches_a_drifted_runtime() -> None:
    """What today's main had: a 300 s protocol default against 600 s, and a missing method."""

    class Drifted(LocalRuntime):
        def nodetool(self, node: str, args: Any, timeout: float = 300) -> Any:  # type: ignore[override]
            return None

        def log_since(self, node: str, mark: int, debug: bool = False) -> str:
            return ""

        def exec(self, node: str, argv: Any, cwd: str) -> Any:  # type: ignore[override]
            return None

    assert signature_problems(Drifted, "nodetool") == [
        f"Drifted.nodetool(timeout): default 300, protocol says {COMMAND_TIMEOUT_S!r}"]
    assert signature_problems(Drifted, "log_since") == [
        "Drifted.log_since(debug): default False, protocol says True"]
    assert "Drifted.exec(workdir): parameter missing or moved" in signature_problems(Drifted, "exec")
    assert signature_problems(type("Bare", (), {}), "exists") == ["Bare.exists is missing"]
