"""Class-data sharing (AppCDS) for the JVMs dselab starts: a node, a cold nodetool, sstableloader.

A node's start spends about 12 s of CPU, a cold nodetool about 1.6 s, much of it loading and
verifying the same ~10,000 classes every time. The first such JVM without an archive writes one
when it exits (-XX:ArchiveClassesAtExit) into a file of its own; whoever saw that JVM end cleanly
puts the file in place (a rename), and every later JVM of the same java, classpath and entry maps
it (-XX:SharedArchiveFile): read-only, and shared in memory by every node that maps it.

Safe by construction:
- The JVM checks an archive against its own version, flags and classpath and runs without it
  when they differ (-Xshare:auto, the default): a stale archive costs speed, never a result.
- An archive is loaded as code. One is mapped only when its owner is this user or root and
  neither it nor its folder may be written by anyone else (a classroom seat cannot plant one for
  the grader); one is made only in a folder this user may write.
- A JVM killed while it wrote is never put in place: only the caller that watched it exit knows.
- No JVM dumps under a file-size limit that an archive would overrun (a classroom observer's
  output cap): the JVM would die of SIGXFSZ as it exits, and its command would look failed.
"""

from __future__ import annotations

import hashlib
import os
import resource
import stat
import time
from dataclasses import dataclass
from pathlib import Path

DUMP_FLAG = "-XX:ArchiveClassesAtExit="
# A java agent (the node's jamm) is allowed while dumping and mapping only when both say so.
AGENT_FLAGS = ("-XX:+UnlockDiagnosticVMOptions", "-XX:+AllowArchivingWithJavaAgent")
STALE_DUMP_S = 24 * 3600  # a dump file this old was left by a JVM that never exited cleanly
DUMP_ROOM = 512 << 20  # a node's archive is about 60 MB, nodetool's less: room to spare


@dataclass(frozen=True)
class Archive:
    path: Path
    agent: bool
    enabled: bool = True  # DSELAB_CLASS_ARCHIVES=0: no flag at all

    def flags(self, owner: str) -> list[str]:
        """The JVM flags: map the archive when it is there and trusted; else dump one at exit into
        a file named after `owner` (the node, or the process) when the folder is ours; else none."""
        if not self.enabled:
            return []
        extra = list(AGENT_FLAGS) if self.agent else []
        if trusted(self.path):
            return [*extra, f"-XX:SharedArchiveFile={self.path}"]
        if not _writable_dir(self.path.parent) or not _room_to_dump():
            return []
        _drop_stale(self.path)
        return [*extra, DUMP_FLAG + str(self.dump_file(owner))]

    def dump_file(self, owner: str) -> Path:
        tag = hashlib.sha256(owner.encode()).hexdigest()[:12]
        return self.path.with_name(f"{self.path.name}.{tag}.dump")


def for_jvm(folder: Path, java: str, classpath: str, entry: str, agent: bool = False, enabled: bool = True) -> Archive:
    """The archive of JVMs started as `java -cp classpath[:more] entry`. `classpath` is jars only:
    a folder before the last class the JVM archives makes it refuse to dump, while one after the
    jars (a node's conf/) may differ from JVM to JVM."""
    real = Path(java).resolve()
    try:
        info = real.stat()
        build = f"{info.st_size}:{info.st_mtime_ns}"
    except OSError:
        build = ""
    key = hashlib.sha256("\0".join((str(real), build, classpath, entry, str(agent))).encode()).hexdigest()[:20]
    if enabled and not folder.exists() and _writable_dir(folder.parent):
        folder.mkdir(mode=0o755, exist_ok=True)
    return Archive(folder / f"{entry.rsplit('.', 1)[-1]}-{key}.jsa", agent, enabled)


def dump_file_of(argv: list[str] | tuple[str, ...]) -> Path | None:
    """The file a JVM with this command line dumps its archive into at exit, if it does."""
    for arg in argv:
        if arg.startswith(DUMP_FLAG):
            return Path(arg[len(DUMP_FLAG):])
    return None


def settle(dump: Path | None, clean: bool) -> None:
    """After the JVM that dumps into `dump` has ended: put its archive in place if it ended
    cleanly (an exit, even a failing one, writes a whole archive); else drop what it left."""
    if dump is None:
        return
    final = dump.with_name(dump.name.split(".jsa.", 1)[0] + ".jsa")
    try:
        if clean and dump.is_file() and dump.stat().st_size > 0:
            os.replace(dump, final)
        else:
            dump.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or vanished folder: the next JVM runs without an archive


def trusted(path: Path) -> bool:
    """A regular file (no link followed) that only this user or root can have written."""
    me = os.geteuid()
    try:
        for item in (path, path.parent):
            info = item.lstat()
            if info.st_uid not in (me, 0) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _room_to_dump() -> bool:
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return limit == resource.RLIM_INFINITY or limit >= DUMP_ROOM


def _writable_dir(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and os.access(folder, os.W_OK | os.X_OK)


def _drop_stale(final: Path) -> None:
    now = time.time()
    for left in final.parent.glob(final.name + ".*.dump"):
        try:
            if now - left.lstat().st_mtime > STALE_DUMP_S:
                left.unlink()
        except OSError:
            pass
