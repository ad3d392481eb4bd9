"""The warm nodetool: one long-lived JVM per cluster and client that runs nodetool in-process (java/NodetoolServer.java).

A nodetool JVM costs about a second and a core-second to start; a check makes one to three calls,
a student's `./scripts/nodetool.sh` one. The warm server answers the same call with nodetool's
exact text, exit code and stderr in a few tens of milliseconds. `LocalRuntime.nodetool` asks it
first (`run`) and runs the JVM-per-call path whenever it gets None: the text nodetool path stays
the fallback, and the user is told nothing unless that fails too.

Two clients, a server each: the nodes' own nodetool (checks, and the scripts with "native"), and
the DSE 5.1 generation's (Cassandra 3.11's, runtime/legacy_nodetool.py: the scripts with "3.11").
The 3.11 server runs that client's jars, JVM flags and launcher (`Launch.entry`, its
`clientInitialization()` done once at start, `Launch.client_init`); its replies' stderr is
filtered as a cold run's is (`without_unmmaper_trace`).

Where it lives: `<home>/run/` (0700, the owner's), per cluster a socket `nodetool-<cluster>.sock`
(0600; `nodetool-<cluster>-3.11.sock` for the 3.11 client), a lock `nodetool-<cluster>.lock` and
the server's log, named the same way. The lock is taken by whoever starts
a server and its descriptor is handed to the server, which holds it for its whole life: a second
caller that finds no socket but a held lock knows a server is starting and runs cold meanwhile,
so two callers never start two servers, and a server that died (even by SIGKILL) frees it.

Starting never makes a caller wait: the first call after a start runs cold while a detached
launcher (`python -m dselab.runtime.nodetool_server launch ...`) compiles the server once per
source and Cassandra version into the cache (javac against the distribution's jars) and execs
the JVM. The server exits when idle for IDLE_EXIT_S, when its socket is removed or replaced, or
when no node of its cluster runs (`dselab down`).

Trust: the server serves only peers of its own uid (SO_PEERCRED), and a client uses a server only
when its folder is its own (0700) and the peer answering is its own uid. It is never used where
the cluster's folder belongs to someone else. A classroom's observer (an unprivileged user of its
own reading a seat's nodes, DSELAB_TOOLS_CONF set) must not ask a server the seat could have
started or replaced: it uses one only in its own home (DSELAB_WARM_NODETOOL_DIR), started by
itself, under its rlimits, in the seat's namespace, with root's tools config; without that folder it
keeps the JVM-per-call path. Where the cache is read-only (a classroom's toolchain), root compiles
the server beforehand (classroom.host.toolchain).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from dselab.errors import DselabError
from dselab.runtime import java_helpers

SOURCE = java_helpers.JAVA_DIR / "NodetoolServer.java"
MAIN_CLASS = "NodetoolServer"
MAGIC = b"DNT1"
RAN, BUSY, TIMED_OUT, REFUSED, ESCAPED = range(5)
IDLE_EXIT_S = 900  # a lab session's pauses; a class's seats each keep one while they work
WORKERS = 4  # nodetool runs at once in one server (a check asks three nodes at once)
CONNECT_TIMEOUT_S = 1.0
RESTART_PAUSE_S = 10.0  # after a start, the next one waits this long (see _started_lately)
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
MAX_REPLY_BYTES = 128 << 20
# Never sent to the warm server: sjk runs JVM tooling inside the nodetool JVM itself; help (and
# nodetool without a command, which prints help) lists the global options in the order of a HashMap
# keyed by airline's OptionMetadata, whose hash takes an enum's identity hash: the same in every
# fresh JVM, another in a long-lived one (measured: `help` printed -pwf before -pp warm). The 3.11
# client's help differs even between two fresh JVMs (four cold runs, four orders): cold there too.
COLD_ONLY = frozenset({"sjk", "help"})
PREFIX_ARGS = 4  # every argv starts with -h HOST -p PORT: no more means no command
SERVER_JVM_FLAGS = ["-Djava.security.manager=allow", "-XX:+UseSerialGC", "-Xss512k"]
NODETOOL_ENTRY = "org.apache.cassandra.tools.NodeTool"


class TimedOut(Exception):
    """The warm server ran the command and it did not finish in time (as a cold JVM would not)."""


@dataclass(frozen=True)
class Launch:
    """What starting a cluster's server takes; built only when one must be started."""

    java: str
    jvm_args: tuple[str, ...]  # nodetool's own (heap, serial filter, logging config, module flags)
    classpath: str  # the tools' conf dir and Cassandra's lib/*
    cassandra_version: str
    cache: Path  # compiled classes: <cache>/warm-nodetool/<version>-<source hash>/
    cluster_root: Path  # the server exits when no node below it runs
    entry: str = NODETOOL_ENTRY  # the class whose main a cold JVM runs (the 3.11 client's launcher)
    client_init: bool = False  # DatabaseDescriptor.clientInitialization() at start (the 3.11 client)


@dataclass(frozen=True)
class Place:
    """One cluster's server files for one client, below `<home>/run/`."""

    folder: Path
    cluster: str
    client: str | None = None  # None: the nodes' own nodetool; "3.11": the DSE 5.1 generation's

    @property
    def _stem(self) -> str:
        return f"nodetool-{self.cluster}" + (f"-{self.client}" if self.client else "")

    @property
    def socket(self) -> Path:
        return self.folder / f"{self._stem}.sock"

    @property
    def lock(self) -> Path:
        return self.folder / f"{self._stem}.lock"

    @property
    def log(self) -> Path:
        return self.folder / f"{self._stem}.log"


def place(home: Path, cluster: str, client: str | None = None) -> Place:
    """Where `cluster`'s server for `client` lives (None: the nodes' own nodetool)."""
    return Place(home / "run", cluster, client)


def _own_folder(folder: Path) -> bool:
    """The folder exists (made 0700 if missing), is no link, is ours, and no one else may write or enter it.
    Nothing is made in a home that is not ours (root reading a seat's cluster leaves no trace there)."""
    try:
        if os.lstat(folder.parent).st_uid != os.geteuid():
            return False
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077


def usable(where: Place) -> bool:
    return len(os.fsencode(where.socket)) <= MAX_SOCKET_PATH and _own_folder(where.folder)


# -- the protocol -----------------------------------------------------------------------------

def encode_request(argv: Sequence[str], timeout_s: float) -> bytes:
    parts = [MAGIC, struct.pack(">II", min(int(timeout_s * 1000), 0xFFFFFFFF), len(argv))]
    for arg in argv:
        data = arg.encode("utf-8")
        parts.append(struct.pack(">I", len(data)) + data)
    return b"".join(parts)


@dataclass(frozen=True)
class Reply:
    status: int
    returncode: int
    stdout: bytes
    stderr: bytes


def _read_exact(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("the warm nodetool server closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_reply(sock: socket.socket) -> Reply:
    head = _read_exact(sock, 4 + 1 + 4)
    if head[:4] != MAGIC:
        raise ConnectionError("the warm nodetool server answered in another protocol")
    status, code = struct.unpack(">Bi", head[4:])
    streams = []
    for _ in range(2):
        (length,) = struct.unpack(">I", _read_exact(sock, 4))
        if length > MAX_REPLY_BYTES:
            raise ConnectionError("the warm nodetool server's reply is too long")
        streams.append(_read_exact(sock, length))
    return Reply(status, code, streams[0], streams[1])


def as_text(data: bytes) -> str:
    """Bytes as `subprocess.run(..., text=True)` gives a child's output: the locale's encoding, universal newlines."""
    wrapper = io.TextIOWrapper(io.BytesIO())
    text = data.decode(wrapper.encoding, wrapper.errors or "strict")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(str(path))
        if _peer_uid(sock) != os.geteuid():
            raise ConnectionError("the socket is not served by this user")
    except OSError:
        sock.close()
        return None
    return sock


def ask(where: Place, argv: Sequence[str], timeout_s: float) -> Reply | None:
    """The server's reply to one nodetool call; None when no server of ours answers."""
    sock = _connect(where.socket)
    if sock is None:
        return None
    with sock:
        try:
            sock.settimeout(timeout_s + 10)
            sock.sendall(encode_request(argv, timeout_s))
            return read_reply(sock)
        except OSError:
            return None


# -- starting a server ------------------------------------------------------------------------

def _take_lock(where: Place) -> int | None:
    """The start lock's descriptor, or None when someone holds it (a server starting or running)."""
    fd = os.open(where.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _started_lately(where: Place) -> bool:
    """A server was started (or wrote its last line) less than RESTART_PAUSE_S ago: one that cannot
    run here (a JDK without a SecurityManager, say) is not started again at every call."""
    try:
        return time.time() - where.log.stat().st_mtime < RESTART_PAUSE_S
    except OSError:
        return False


def start(where: Place, launch: Launch, force: bool = False) -> bool:
    """Start the cluster's server in the background unless one is running or starting (or one was
    started lately, unless `force`). True: started."""
    fd = _take_lock(where)
    if fd is None:
        return False
    try:
        if not force and _started_lately(where):
            return False
        if where.socket.exists():
            sock = _connect(where.socket)
            if sock is not None:  # a server that was started without the lock (an older dselab): keep it
                sock.close()
                return False
            where.socket.unlink()
        with where.log.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dselab.runtime.nodetool_server", "launch", str(fd), str(where.socket),
                 json.dumps(asdict(launch), default=str)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,),
                start_new_session=True, cwd="/")
        threading.Thread(target=proc.wait, daemon=True).start()  # reap the launcher, never wait for it
        return True
    finally:
        os.close(fd)  # the launcher (then the server) holds the lock through its own copy


def wait_ready(where: Place, timeout_s: float = 60.0, launch: Launch | None = None) -> bool:
    """Poll until the server answers, starting it with `launch` if none is (tests and benchmarks:
    the runtime never waits)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock = _connect(where.socket)
        if sock is not None:
            sock.close()
            return True
        if launch is not None:
            start(where, launch, force=True)
        time.sleep(0.1)
    return False


def compiled(launch: Launch) -> Path:
    """The folder holding the compiled server for this source and Cassandra version (compiled once)."""
    return java_helpers.compiled(SOURCE, MAIN_CLASS, launch.java, launch.classpath,
                                 launch.cache / "warm-nodetool", launch.cassandra_version)


def launch_main(fd: int, socket_path: str, spec: str) -> None:
    """The detached launcher: compile if needed, then become the server JVM (which keeps the lock fd)."""
    raw = json.loads(spec)
    launch = Launch(java=raw["java"], jvm_args=tuple(raw["jvm_args"]), classpath=raw["classpath"],
                    cassandra_version=raw["cassandra_version"], cache=Path(raw["cache"]),
                    cluster_root=Path(raw["cluster_root"]), entry=raw["entry"], client_init=raw["client_init"])
    classes = compiled(launch)
    os.set_inheritable(fd, True)
    argv = [launch.java, *launch.jvm_args, *SERVER_JVM_FLAGS, "-cp", f"{classes}:{launch.classpath}", MAIN_CLASS,
            socket_path, str(launch.cluster_root), str(IDLE_EXIT_S), str(WORKERS), launch.entry,
            *(["client-init"] if launch.client_init else [])]
    os.execv(argv[0], argv)


# -- the runtime's entry ----------------------------------------------------------------------

def start_quietly(where: Place, launch: Callable[[], Launch]) -> None:
    """Start the server in the background if it can be; a failure leaves the cold path to the calls."""
    if not usable(where):
        return
    try:
        start(where, launch())
    except (OSError, DselabError):
        pass


def run(where: Place, argv: Sequence[str], timeout_s: float,
        launch: Callable[[], Launch] | None = None) -> Reply | None:
    """nodetool `argv` (-h HOST -p PORT ARGS) through the cluster's warm server: its reply (status
    RAN), or None to run it cold (no server, busy, refused, a reply that would differ from a JVM's). Raises TimedOut when
    the server ran it past `timeout_s`. With no server running and `launch` given, one is started
    in the background for the next call."""
    if COLD_ONLY.intersection(argv) or len(argv) <= PREFIX_ARGS or not usable(where):
        return None
    reply = ask(where, argv, timeout_s)
    if reply is None:
        if launch is not None:
            start_quietly(where, launch)
        return None
    if reply.status == TIMED_OUT:
        raise TimedOut()
    return reply if reply.status == RAN else None


if __name__ == "__main__":  # the launcher: python -m dselab.runtime.nodetool_server launch FD SOCKET SPEC
    if len(sys.argv) != 5 or sys.argv[1] != "launch":
        raise SystemExit("usage: python -m dselab.runtime.nodetool_server launch FD SOCKET SPEC")
    launch_main(int(sys.argv[2]), sys.argv[3], sys.argv[4])
