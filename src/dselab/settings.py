"""dselab's settings as one value, and the one place that reads them from the environment.

`Settings.from_env(environ)` parses every DSELAB_* variable (and the few others dselab uses:
HOME/XDG_* for the default folders, JAVA_HOME, CASSANDRA_HOME), checks them all and reports every
bad one at once as one UsageError. The CLI builds the value once, applies its flags with
`dataclasses.replace` and passes it down; `Settings.child_env()` gives a child process (a command
a student would type, a `dselab` subprocess) the variables that make it see the same settings.

Library entry points that may be called without a value (`settings: Settings | None = None`) go
through `resolve`, which reads the environment here and nowhere else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dselab.errors import UsageError

# -- the variables ----------------------------------------------------------------------------
HOME = "DSELAB_HOME"
CACHE = "DSELAB_CACHE"
RUNTIME = "DSELAB_RUNTIME"
CONTENT = "DSELAB_CONTENT"
LABS = "DSELAB_LABS"
LOOPBACK = "DSELAB_LOOPBACK"
JMX_BASE = "DSELAB_JMX_BASE"
HEAP_MB = "DSELAB_HEAP_MB"
NODE_PROFILE = "DSELAB_NODE_PROFILE"
START_TIMEOUT = "DSELAB_START_TIMEOUT"
CASSANDRA_VERSION = "DSELAB_CASSANDRA_VERSION"
STATE_DIR = "DSELAB_STATE_DIR"
COMPOSE_FILE = "DSELAB_COMPOSE_FILE"
COMPOSE_FILES = "DSELAB_COMPOSE_FILES"
COMPOSE_PROJECT = "DSELAB_COMPOSE_PROJECT"
DOCKER_PULL = "DSELAB_DOCKER_PULL"
TOOLS_CONF = "DSELAB_TOOLS_CONF"
COURSE_KEY = "DSELAB_COURSE_KEY"
SEAT = "DSELAB_SEAT"
WARM_NODETOOL = "DSELAB_WARM_NODETOOL"
WARM_NODETOOL_DIR = "DSELAB_WARM_NODETOOL_DIR"
NODETOOL = "DSELAB_NODETOOL"
TEMPLATE = "DSELAB_TEMPLATE"
TEMPLATE_DIR = "DSELAB_TEMPLATE_DIR"
CLASS_ARCHIVES = "DSELAB_CLASS_ARCHIVES"
JAVA_HOME = "JAVA_HOME"
CASSANDRA_HOME = "CASSANDRA_HOME"
CLASSROOM_ROOT = "DSELAB_CLASSROOM_ROOT"
CLASSROOM_NODE_PROFILE = "DSELAB_CLASSROOM_NODE_PROFILE"
CLASSROOM_CHECKS = "DSELAB_CLASSROOM_CHECKS"
CLASSROOM_CHECK_QUEUE = "DSELAB_CLASSROOM_CHECK_QUEUE"
CLASSROOM_CHECK_WAIT_S = "DSELAB_CLASSROOM_CHECK_WAIT_S"
CLASSROOM_STUCK_FAILURES = "DSELAB_CLASSROOM_STUCK_FAILURES"
CLASSROOM_STUCK_IDLE_S = "DSELAB_CLASSROOM_STUCK_IDLE_S"
CLASSROOM_MAX_CONNECTIONS = "DSELAB_CLASSROOM_MAX_CONNECTIONS"
CLASSROOM_SEAT_CONNECTIONS = "DSELAB_CLASSROOM_SEAT_CONNECTIONS"
CLASSROOM_PARALLEL = "DSELAB_CLASSROOM_PARALLEL"
CLASSROOM_TEMPLATES = "DSELAB_CLASSROOM_TEMPLATES"
SEAT_MEMORY_MB = "DSELAB_SEAT_MEMORY_MB"
SEAT_MEMORY_LIMIT_MB = "DSELAB_SEAT_MEMORY_LIMIT_MB"
SEAT_PROCS = "DSELAB_SEAT_PROCS"
SEAT_CPU_WEIGHT = "DSELAB_SEAT_CPU_WEIGHT"
SEAT_CGROUPS = "DSELAB_SEAT_CGROUPS"

RUNTIMES = ("local", "docker")
NODETOOLS = ("3.11", "native")  # the student's nodetool: the DSE 5.1 generation's, or the nodes' own
PROFILES = ("default", "small")  # node settings: runtime.local_config.SMALL_NODE_YAML / SMALL_NODE_JVM
JMX_SPAN = 300  # node i of a cluster listens for JMX on jmx_base + 100 * i, i <= 3
MAX_PORT_BASE = 65535 - JMX_SPAN
DEFAULT_CLASSROOM_ROOT = Path("/var/lib/dselab/classroom")
_FALSE, _TRUE = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ClassroomSettings:
    """The classroom server's knobs (dselab classroom ...). None: the default worked out where used."""

    root: Path = DEFAULT_CLASSROOM_ROOT  # everything a classroom keeps (classroom.layout)
    # The seats' cluster template and its builder, shared by every classroom naming the same folder
    # (the next class starts from it at once); None: the classroom's own, removed by its purge.
    templates: Path | None = None
    node_profile: str = "small"  # node settings for the seats' clusters
    checks: int | None = None  # checks running at once (None: the host's cores, at most 4)
    check_queue: int = 16  # checks waiting for a turn
    check_wait_s: float = 30.0  # how long one waits before it is told to try again
    stuck_failures: int = 3  # the instructor's class picture: the same step failed this often looks stuck
    stuck_idle_s: float = 600.0  # ... and so does no check for this long while behind the class
    max_connections: int = 256  # connections to the classroom server in all
    seat_connections: int = 12  # connections per seat (a few tabs, each a terminal and polls)
    parallel: int | None = None  # seats set up at once (None: the host's cores, at most 2)
    seat_memory_mb: int | None = None  # a seat's measured memory (None: classroom.capacity's measure)
    seat_memory_limit_mb: int | None = None  # a seat's hard memory limit (None: the plan's + tools)
    seat_procs: int | None = None  # a seat's processes and threads (None: classroom.limits' measure)
    seat_cpu_weight: int = 100  # a seat's cgroup v2 CPU weight, 1-10000
    cgroups: bool = True  # False: rlimits only, even where the host offers cgroups


@dataclass(frozen=True)
class Settings:
    """Everything dselab takes from its environment. Paths are as given (not resolved)."""

    home: Path  # clusters and progress (state-<runtime>.sqlite, clusters/<cluster>/)
    cache: Path  # downloads (cassandra-<version>/)
    runtime: str = "local"  # where clusters run: local processes or docker (Compose)
    content: Path | None = None  # a source tree holding labs/, checks/, site/, scripts/ (None: the installed one)
    labs: tuple[Path, ...] = ()  # extra lab roots after the shipped content
    loopback: str = "127.0.55"  # a local cluster's first three address octets; nodes take .1 to .4
    jmx_base: int = 7155  # node i's JMX port is jmx_base + 100 * i
    heap_mb: int | None = None  # a local node's heap (None: 512, or 256 with the small profile)
    node_profile: str = "default"  # node settings: default or small (classroom seats)
    start_timeout_s: float = 300.0  # how long a node may take to listen for CQL
    cassandra_version: str | None = None  # the Cassandra to fetch (None: runtime.distribution's default)
    state_dir: Path | None = None  # where the state store lives (None: home)
    compose_file: Path | None = None  # the base compose file (None: the packaged docker-compose.yml)
    compose_files: tuple[Path, ...] = ()  # every compose file, in order (empty: the base and its override)
    compose_project: str = "dselab"  # the Compose project name
    docker_pull: str = ""  # "never": a missing image is an error, not a pull (CI)
    tools_conf: Path | None = None  # client tools' logging config (None: the node's conf/)
    course_key: str | None = field(default=None, repr=False)  # signs grade reports; never printed
    seat: str | None = None  # the classroom seat this process runs in, if any
    warm_nodetool: bool = True  # False: every nodetool call starts its own JVM (runtime.nodetool_server)
    # Where warm nodetool servers keep their sockets (None: <home>/run). A classroom's observer sets
    # its own home's: with a tools config set, only there is one used (runtime.local._may_warm).
    warm_nodetool_dir: Path | None = None
    nodetool: str | None = None  # the scripts' nodetool, "3.11" or "native" (None: the lab's choice; nodetool_choice)
    java_home: str | None = None  # JAVA_HOME: the Java to run nodes and tools with
    cassandra_home: str | None = None  # CASSANDRA_HOME: an unpacked Cassandra to use instead of a download
    template: bool = True  # a fresh local cluster is made from the pristine template (runtime.template)
    template_dir: Path | None = None  # where templates are kept (None: <cache>/templates)
    class_archives: bool = True  # local JVMs map shared class archives (runtime.class_archive)
    classroom: ClassroomSettings = field(default_factory=ClassroomSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """The settings `environ` gives; every bad value reported at once in one UsageError."""
        return _Reader(environ).settings()

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (a CLI flag, a seat's own home), validated like the environment."""
        changed = replace(self, **changes)
        problems = _problems(changed)
        if problems:
            raise _error(problems)
        return changed

    @property
    def heap(self) -> int:
        """A local node's heap in MB: the setting, else the profile's default."""
        return self.heap_mb or (256 if self.node_profile == "small" else 512)

    @property
    def state_folder(self) -> Path:
        return self.state_dir or self.home

    def child_env(self) -> dict[str, str]:
        """The variables that give a child process these settings (`from_env` of them gives them back)."""
        env: dict[str, str] = {}
        for name, (attr, _parse, show) in _VARIABLES.items():
            value = _get(self, attr)
            if value is not None and value != () and value != "":
                env[name] = show(value)
        return env

    def changed_env(self) -> dict[str, str]:
        """Those of `child_env` set to something other than their default (never home or cache):
        what a classroom seat may inherit from the server, whose folders it does not share."""
        default = Settings(home=self.home, cache=self.cache).child_env()
        return {name: value for name, value in self.child_env().items() if default.get(name) != value}


def resolve(settings: Settings | None = None) -> Settings:
    """`settings`, or what the process environment says now (read at each call: tests move it)."""
    return settings if settings is not None else Settings.from_env(os.environ)


def current() -> Settings:
    """What the process environment says now: for the CLI's loader and library entry points."""
    return resolve(None)


# -- parsing ----------------------------------------------------------------------------------

class _Bad(ValueError):
    """One bad value; its text says what the variable accepts."""


def _path(raw: str) -> Path:
    return Path(raw)


def _paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(p.strip()) for p in raw.split(os.pathsep) if p.strip())


def _word(raw: str) -> str:
    return raw.strip()


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise _Bad(f"is not one of {', '.join(allowed)}")
        return value
    return parse


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise _Bad(f"is not a whole number (accepts {low}-{high})") from None
        if not low <= value <= high:
            raise _Bad(f"is out of range ({low}-{high})")
        return value
    return parse


def _seconds(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise _Bad("is not a number of seconds (accepts a number above 0, e.g. 300)")
    return value


def _loopback(raw: str) -> str:
    value = raw.strip()
    octets = value.split(".")
    if len(octets) != 3 or octets[0] != "127" or not all(o.isdigit() and len(o) <= 3 and int(o) <= 255
                                                         for o in octets[1:]):
        raise _Bad("is not of the form 127.X.Y (e.g. 127.0.55)")
    return value


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in _FALSE + _TRUE:
        raise _Bad("is not 0 or 1")
    return value in _TRUE


def _show_paths(value: tuple[Path, ...]) -> str:
    return os.pathsep.join(str(p) for p in value)


def _show_flag(value: bool) -> str:
    return "1" if value else "0"


Parse = Callable[[str], Any]
Show = Callable[[Any], str]
MB = _whole(1, 1 << 60)  # a seat's measured memory: any size (the capacity check says whether it fits)

# variable -> (attribute, parse, show); a "classroom." attribute is a ClassroomSettings field.
_VARIABLES: dict[str, tuple[str, Parse, Show]] = {
    HOME: ("home", _path, str),
    CACHE: ("cache", _path, str),
    RUNTIME: ("runtime", _choice(*RUNTIMES), str),
    CONTENT: ("content", _path, str),
    LABS: ("labs", _paths, _show_paths),
    LOOPBACK: ("loopback", _loopback, str),
    JMX_BASE: ("jmx_base", _whole(1024, MAX_PORT_BASE), str),
    HEAP_MB: ("heap_mb", _whole(256, 1 << 20), str),
    NODE_PROFILE: ("node_profile", _choice(*PROFILES), str),
    START_TIMEOUT: ("start_timeout_s", _seconds, repr),
    CASSANDRA_VERSION: ("cassandra_version", _word, str),
    STATE_DIR: ("state_dir", _path, str),
    COMPOSE_FILE: ("compose_file", _path, str),
    COMPOSE_FILES: ("compose_files", _paths, _show_paths),
    COMPOSE_PROJECT: ("compose_project", _word, str),
    DOCKER_PULL: ("docker_pull", _word, str),
    TOOLS_CONF: ("tools_conf", _path, str),
    COURSE_KEY: ("course_key", _word, str),
    SEAT: ("seat", _word, str),
    WARM_NODETOOL: ("warm_nodetool", _flag, _show_flag),
    WARM_NODETOOL_DIR: ("warm_nodetool_dir", _path, str),
    NODETOOL: ("nodetool", _choice(*NODETOOLS), str),
    TEMPLATE: ("template", _flag, _show_flag),
    TEMPLATE_DIR: ("template_dir", _path, str),
    CLASS_ARCHIVES: ("class_archives", _flag, _show_flag),
    JAVA_HOME: ("java_home", str, str),
    CASSANDRA_HOME: ("cassandra_home", str, str),
    CLASSROOM_ROOT: ("classroom.root", _path, str),
    CLASSROOM_NODE_PROFILE: ("classroom.node_profile", _choice(*PROFILES), str),
    CLASSROOM_CHECKS: ("classroom.checks", _whole(1, 1024), str),
    CLASSROOM_CHECK_QUEUE: ("classroom.check_queue", _whole(0, 1 << 16), str),
    CLASSROOM_CHECK_WAIT_S: ("classroom.check_wait_s", _seconds, repr),
    CLASSROOM_STUCK_FAILURES: ("classroom.stuck_failures", _whole(1, 1000), str),
    CLASSROOM_STUCK_IDLE_S: ("classroom.stuck_idle_s", _seconds, repr),
    CLASSROOM_MAX_CONNECTIONS: ("classroom.max_connections", _whole(1, 1 << 20), str),
    CLASSROOM_SEAT_CONNECTIONS: ("classroom.seat_connections", _whole(1, 1 << 20), str),
    CLASSROOM_PARALLEL: ("classroom.parallel", _whole(1, 1024), str),
    CLASSROOM_TEMPLATES: ("classroom.templates", _path, str),
    SEAT_MEMORY_MB: ("classroom.seat_memory_mb", MB, str),
    SEAT_MEMORY_LIMIT_MB: ("classroom.seat_memory_limit_mb", _whole(256, 1 << 22), str),
    SEAT_PROCS: ("classroom.seat_procs", _whole(64, 1 << 22), str),
    SEAT_CPU_WEIGHT: ("classroom.seat_cpu_weight", _whole(1, 10000), str),
    SEAT_CGROUPS: ("classroom.cgroups", _flag, _show_flag),
}


def _get(settings: Settings, attr: str) -> Any:
    target: Any = settings
    for part in attr.split("."):
        target = getattr(target, part)
    return target


class _Reader:
    """Parse every variable of one environment, collecting the problems instead of stopping at one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def settings(self) -> Settings:
        top: dict[str, Any] = {"home": self._default_home(), "cache": self._default_cache()}
        room: dict[str, Any] = {}
        for name, (attr, parse, _show) in _VARIABLES.items():
            raw = self.environ.get(name, "")
            if not raw.strip():
                continue  # unset or empty: the default
            try:
                value = parse(raw)
            except _Bad as bad:
                self.problems.append(f"{name}={raw!r} {bad}")
                continue
            if attr.startswith("classroom."):
                room[attr.removeprefix("classroom.")] = value
            else:
                top[attr] = value
        if self.problems:
            raise _error(self.problems)
        return Settings(**top, classroom=ClassroomSettings(**room))

    def _user_home(self) -> Path:
        return Path(self.environ.get("HOME") or Path.home())

    def _default_home(self) -> Path:
        data = self.environ.get("XDG_DATA_HOME") or self._user_home() / ".local" / "share"
        return Path(data) / "dselab"

    def _default_cache(self) -> Path:
        cache = self.environ.get("XDG_CACHE_HOME") or self._user_home() / ".cache"
        return Path(cache) / "dselab"


def _problems(settings: Settings) -> list[str]:
    """What is wrong with a value built in code (checked like the environment's text)."""
    problems = []
    for name, (attr, parse, show) in _VARIABLES.items():
        value = _get(settings, attr)
        if value is None or value == () or value == "" or parse in (_path, _paths, _word, str):
            continue
        try:
            parse(show(value))
        except _Bad as bad:
            problems.append(f"{name}={show(value)!r} {bad}")
    return problems


def _error(problems: list[str]) -> UsageError:
    return UsageError("; ".join(problems), fix="correct the variable, or unset it for the default"
                      if len(problems) == 1 else "correct these variables, or unset them for their defaults")


def variable_names() -> tuple[str, ...]:
    """Every variable `from_env` reads."""
    return tuple(_VARIABLES)

