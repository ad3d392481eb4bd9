"""dselab's settings: one value, read from the environment in one place, handed to children whole."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dselab import cli, service
from dselab import settings as knobs
from dselab.errors import UsageError
from dselab.settings import ClassroomSettings, Settings

HOME = {"HOME": "/home/ada"}

# Every variable set to something other than its default, and what it becomes.
EVERY = {
    knobs.HOME: ("/srv/dselab", "home", Path("/srv/dselab")),
    knobs.CACHE: ("/srv/cache", "cache", Path("/srv/cache")),
    knobs.RUNTIME: ("Docker", "runtime", "docker"),
    knobs.CONTENT: ("/src/dselab", "content", Path("/src/dselab")),
    knobs.LABS: (f"/labs/a{os.pathsep} {os.pathsep}/labs/b", "labs", (Path("/labs/a"), Path("/labs/b"))),
    knobs.LOOPBACK: ("127.0.77", "loopback", "127.0.77"),
    knobs.JMX_BASE: ("9100", "jmx_base", 9100),
    knobs.HEAP_MB: ("768", "heap_mb", 768),
    knobs.NODE_PROFILE: ("small", "node_profile", "small"),
    knobs.START_TIMEOUT: ("12.5", "start_timeout_s", 12.5),
    knobs.CASSANDRA_VERSION: ("5.0.8", "cassandra_version", "5.0.8"),
    knobs.STATE_DIR: ("/srv/state", "state_dir", Path("/srv/state")),
    knobs.COMPOSE_FILE: ("/c/base.yml", "compose_file", Path("/c/base.yml")),
    knobs.COMPOSE_FILES: (f"/c/a.yml{os.pathsep}/c/b.yml", "compose_files", (Path("/c/a.yml"), Path("/c/b.yml"))),
    knobs.COMPOSE_PROJECT: ("dselab-ci", "compose_project", "dselab-ci"),
    knobs.DOCKER_PULL: ("never", "docker_pull", "never"),
    knobs.TOOLS_CONF: ("/srv/tools-conf", "tools_conf", Path("/srv/tools-conf")),
    knobs.COURSE_KEY: ("  sekrit\n", "course_key", "sekrit"),
    knobs.SEAT: ("alice", "seat", "alice"),
    knobs.WARM_NODETOOL: ("off", "warm_nodetool", False),
    knobs.WARM_NODETOOL_DIR: ("/srv/observer/run", "warm_nodetool_dir", Path("/srv/observer/run")),
    knobs.NODETOOL: ("3.11", "nodetool", "3.11"),
    knobs.TEMPLATE: ("0", "template", False),
    knobs.TEMPLATE_DIR: ("/srv/templates", "template_dir", Path("/srv/templates")),
    knobs.CLASS_ARCHIVES: ("no", "class_archives", False),
    knobs.JAVA_HOME: ("/opt/java17", "java_home", "/opt/java17"),
    knobs.CASSANDRA_HOME: ("/opt/cassandra", "cassandra_home", "/opt/cassandra"),
    knobs.CLASSROOM_ROOT: ("/srv/room", "classroom.root", Path("/srv/room")),
    knobs.CLASSROOM_NODE_PROFILE: ("default", "classroom.node_profile", "default"),
    knobs.CLASSROOM_CHECKS: ("3", "classroom.checks", 3),
    knobs.CLASSROOM_CHECK_QUEUE: ("5", "classroom.check_queue", 5),
    knobs.CLASSROOM_CHECK_WAIT_S: ("7", "classroom.check_wait_s", 7.0),
    knobs.CLASSROOM_STUCK_FAILURES: ("4", "classroom.stuck_failures", 4),
    knobs.CLASSROOM_STUCK_IDLE_S: ("120", "classroom.stuck_idle_s", 120.0),
    knobs.CLASSROOM_MAX_CONNECTIONS: ("99", "classroom.max_connections", 99),
    knobs.CLASSROOM_SEAT_CONNECTIONS: ("4", "classroom.seat_connections", 4),
    knobs.CLASSROOM_PARALLEL: ("6", "classroom.parallel", 6),
    knobs.CLASSROOM_TEMPLATES: ("/srv/seat-templates", "classroom.templates", Path("/srv/seat-templates")),
    knobs.SEAT_MEMORY_MB: ("2000", "classroom.seat_memory_mb", 2000),
    knobs.SEAT_MEMORY_LIMIT_MB: ("3000", "classroom.seat_memory_limit_mb", 3000),
    knobs.SEAT_PROCS: ("1500", "classroom.seat_procs", 1500),
    knobs.SEAT_CPU_WEIGHT: ("50", "classroom.seat_cpu_weight", 50),
    knobs.SEAT_CGROUPS: ("0", "classroom.cgroups", False),
}


def attr(settings: Settings, name: str) -> Any:
    value: Any = settings
    for part in name.split("."):
        value = getattr(value, part)
    return value


def every_variable() -> dict[str, str]:
    return {**HOME, **{name: raw for name, (raw, _, _) in EVERY.items()}}


def test_defaults_with_nothing_set() -> None:
    s = Settings.from_env(HOME)
    assert s == Settings(home=Path("/home/ada/.local/share/dselab"), cache=Path("/home/ada/.cache/dselab"))
    assert (s.runtime, s.loopback, s.jmx_base, s.heap, s.node_profile, s.start_timeout_s) == (
        "local", "127.0.55", 7155, 512, "default", 300.0)
    assert s.state_folder == s.home and s.labs == () and s.course_key is None
    assert s.classroom == ClassroomSettings()
    assert s.classroom.root == Path("/var/lib/dselab/classroom") and s.classroom.cgroups


def test_xdg_folders_move_the_default_home_and_cache() -> None:
    s = Settings.from_env({**HOME, "XDG_DATA_HOME": "/data", "XDG_CACHE_HOME": "/cache"})
    assert (s.home, s.cache) == (Path("/data/dselab"), Path("/cache/dselab"))


def test_empty_values_mean_the_default() -> None:
    assert Settings.from_env({**HOME, knobs.JMX_BASE: "", knobs.RUNTIME: "  "}) == Settings.from_env(HOME)


def test_every_variable_is_parsed() -> None:
    assert set(EVERY) == set(knobs.variable_names())  # the table above covers every variable
    s = Settings.from_env(every_variable())
    for name, (_raw, field, value) in EVERY.items():
        assert attr(s, field) == value, name
    assert s.state_folder == Path("/srv/state")


def test_the_small_profile_has_a_small_heap_unless_one_is_given() -> None:
    assert Settings.from_env({**HOME, knobs.NODE_PROFILE: "small"}).heap == 256
    assert Settings.from_env({**HOME, knobs.NODE_PROFILE: "small", knobs.HEAP_MB: "400"}).heap == 400


@pytest.mark.parametrize("name, raw, said", [
    (knobs.RUNTIME, "podman", "is not one of local, docker"),
    (knobs.LOOPBACK, "10.0.0", "is not of the form 127.X.Y"),
    (knobs.LOOPBACK, "127.0.300", "is not of the form 127.X.Y"),
    (knobs.JMX_BASE, "seven", "is not a whole number"),
    (knobs.JMX_BASE, "80", "is out of range (1024-65235)"),
    (knobs.HEAP_MB, "64", "is out of range (256-"),
    (knobs.NODE_PROFILE, "tiny", "is not one of default, small"),
    (knobs.NODETOOL, "4.0", "is not one of 3.11, native"),
    (knobs.START_TIMEOUT, "soon", "is not a number of seconds"),
    (knobs.START_TIMEOUT, "-5", "is not a number of seconds"),
    (knobs.CLASSROOM_CHECKS, "0", "is out of range"),
    (knobs.CLASSROOM_CHECK_WAIT_S, "0", "is not a number of seconds"),
    (knobs.SEAT_CPU_WEIGHT, "20000", "is out of range (1-10000)"),
    (knobs.SEAT_PROCS, "10", "is out of range"),
    (knobs.SEAT_CGROUPS, "maybe", "is not 0 or 1"),
])
def test_a_bad_value_is_named_with_what_it_accepts(name: str, raw: str, said: str) -> None:
    with pytest.raises(UsageError) as err:
        Settings.from_env({**HOME, name: raw})
    assert f"{name}={raw!r} {said}" in err.value.message
    assert err.value.fix and "\n" not in err.value.one_line()


def test_every_bad_value_is_reported_at_once_on_one_line() -> None:
    bad = {knobs.RUNTIME: "podman", knobs.JMX_BASE: "x", knobs.SEAT_CGROUPS: "maybe", knobs.CLASSROOM_PARALLEL: "-1"}
    with pytest.raises(UsageError) as err:
        Settings.from_env({**HOME, knobs.LOOPBACK: "127.0.9", **bad})
    for name in bad:
        assert name in err.value.message
    assert knobs.LOOPBACK not in err.value.message and "\n" not in err.value.one_line()


def test_the_course_key_is_never_shown() -> None:
    assert "sekrit" not in repr(Settings.from_env({**HOME, knobs.COURSE_KEY: "sekrit"}))


@pytest.mark.parametrize("environ", [HOME, every_variable()], ids=["defaults", "every variable"])
def test_a_child_sees_the_same_settings(environ: dict[str, str]) -> None:
    s = Settings.from_env(environ)
    child = s.child_env()
    assert Settings.from_env(child) == s
    assert set(child) <= set(knobs.variable_names())


def test_a_child_needs_no_home_of_its_own() -> None:
    s = Settings.from_env(HOME).replace(runtime="docker", jmx_base=9400)
    assert Settings.from_env({**s.child_env(), "HOME": "/elsewhere"}) == s


def test_changed_env_holds_only_what_differs_from_the_defaults() -> None:
    s = Settings.from_env({**HOME, knobs.START_TIMEOUT: "60", knobs.JAVA_HOME: "/opt/java"})
    assert s.changed_env() == {knobs.START_TIMEOUT: "60.0", knobs.JAVA_HOME: "/opt/java"}


def test_replace_is_checked_like_the_environment() -> None:
    s = Settings.from_env(HOME)
    assert s.replace(runtime="docker").runtime == "docker" and s.runtime == "local"
    with pytest.raises(UsageError, match="DSELAB_RUNTIME='podman'"):
        s.replace(runtime="podman")
    with pytest.raises(UsageError, match="DSELAB_SEAT_CPU_WEIGHT='0'"):
        s.replace(classroom=dataclasses.replace(s.classroom, seat_cpu_weight=0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.runtime = "docker"  # type: ignore[misc]


# -- the CLI: loads once, passes the value down, leaves os.environ alone ----------------------

def test_the_cli_never_writes_the_environment() -> None:
    before = dict(os.environ)
    result = CliRunner().invoke(cli.main, ["--runtime", "docker", "show", "05"])
    assert result.exit_code == 0, result.output
    assert dict(os.environ) == before


def test_the_runtime_flag_reaches_the_workspace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(knobs.HOME, str(tmp_path))
    monkeypatch.delenv(knobs.RUNTIME, raising=False)
    seen: list[Settings] = []

    def opened(*_: Any, settings: Settings | None = None, **__: Any) -> service.Workspace:
        assert settings is not None
        seen.append(settings)
        raise UsageError("stop here")

    monkeypatch.setattr(service, "open_workspace", opened)
    before = dict(os.environ)
    result = CliRunner().invoke(cli.main, ["--runtime", "docker", "status"])
    assert result.exit_code == 2 and "stop here" in result.output
    assert [(s.runtime, s.home) for s in seen] == [("docker", tmp_path)]
    assert dict(os.environ) == before


def test_bad_settings_are_one_line_from_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(knobs.JMX_BASE, "seven")
    monkeypatch.setenv(knobs.NODE_PROFILE, "tiny")
    result = CliRunner().invoke(cli.main, ["status"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and knobs.JMX_BASE in lines[0] and knobs.NODE_PROFILE in lines[0]


def test_a_students_commands_get_the_workspaces_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(knobs.LOOPBACK, "127.0.9")  # the process's own; the workspace's settings win
    monkeypatch.setenv("LANG", "C.UTF-8")
    s = Settings.from_env(HOME).replace(runtime="docker")
    env = service.student_env(s)
    assert env[knobs.LOOPBACK] == "127.0.55" and env[knobs.RUNTIME] == "docker"
    assert env["LANG"] == "C.UTF-8"  # the rest of the process's environment is kept
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert Settings.from_env(env) == s


def test_a_students_docker_compose_reaches_the_workspaces_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's `docker compose exec dse-seed ...`, typed in the lab folder (no compose file there)."""
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "someone-elses")
    monkeypatch.setenv("COMPOSE_PATH_SEPARATOR", ",")
    files = (Path("/c/base.yml"), Path("/c/standin.yml"))
    s = Settings.from_env(HOME).replace(runtime="docker", compose_project="dselab-ci", compose_files=files)
    env = service.student_env(s)
    assert env["COMPOSE_PROJECT_NAME"] == "dselab-ci"
    assert env["COMPOSE_FILE"] == os.pathsep.join(str(f) for f in files) and "COMPOSE_PATH_SEPARATOR" not in env
    local = service.student_env(s.replace(runtime="local"))
    assert local["COMPOSE_PROJECT_NAME"] == "someone-elses"  # not dselab's business off docker
