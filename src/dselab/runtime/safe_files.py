"""Reads of a node's files that whoever owns the node's folder cannot turn against the reader.

In a classroom a seat user owns its cluster folders and the grader reads them: a link planted
there (even swapped in while a check runs) must not redirect a read to another file, a FIFO must
not block it, and a 20 GiB sparse file or 100,000 folders must not make it unbounded. So every
path is opened one component at a time below a held directory descriptor with O_NOFOLLOW (a link
anywhere is refused, never followed), only regular files are read (O_NONBLOCK: opening a FIFO
never waits), and every read and listing has a cap. `root` is the anchor (the dselab home with
its links resolved once, by anchor()): it too is walked from / with O_NOFOLLOW, so a folder above a
node swapped for a link later is refused as well. `relative` is a plain relative path below it
('..' is refused).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from dselab.errors import EnvironmentProblem
from dselab.runtime.base import FileEntry

MAX_TEXT_BYTES = 1 << 20  # read_text: a manifest.json or a schema is far smaller
MAX_LOG_BYTES = 8 << 20  # a log read from a mark keeps the last 8 MiB after it
MAX_PID_BYTES = 32  # a pid file holds one number
MAX_LIST_ENTRIES = 20_000  # a lab node's data folder holds a few thousand
MAX_LIST_DEPTH = 8  # data/<ks>/<table>/snapshots/<tag>/.<index>/<file> is 6 deep

_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
# Folders only passed through: O_PATH (Linux) needs search permission alone, as a path lookup does.
_PASS_FLAGS = (_DIR_FLAGS & ~os.O_RDONLY) | getattr(os, "O_PATH", os.O_RDONLY)
_FILE_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0))
_CHUNK = 1 << 20


class RefusedPath(EnvironmentProblem):
    """A node's path that dselab will not read: a link, not a regular file, or over a cap."""


@dataclass(frozen=True)
class Chunk:
    """Bytes read from a file, and how many bytes before them (from the asked start) were skipped."""

    data: bytes
    skipped: int = 0


class Listing(list[FileEntry]):
    """A capped listing; `truncated` says what was left out ('' when nothing was)."""

    truncated: str = ""


def components(relative: str) -> list[str]:
    """The names of a relative path, lexically: no absolute path, no '..' (links are never followed,
    so no name can lead above the root)."""
    if relative.startswith("/"):
        raise RefusedPath(f"path {relative!r} is absolute")
    names = [name for name in relative.split("/") if name not in ("", ".")]
    if ".." in names:
        raise RefusedPath(f"path {relative!r} leaves its folder")
    return names


def _refusal(parent: int, name: str, shown: str, err: OSError) -> OSError | RefusedPath:
    """What an open that failed below `parent` means: a link or a non-folder becomes RefusedPath."""
    if err.errno == errno.ENOENT:
        return FileNotFoundError(errno.ENOENT, "no such file or folder", shown)
    if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            is_link = stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
        except OSError:
            is_link = err.errno == errno.ELOOP
        what = "is a symbolic link (dselab follows no links in a node's folder)" if is_link else "is not a folder"
        return RefusedPath(f"{shown} {what}")
    return err


def open_below(root: str | os.PathLike[str], relative: str, directory: bool = False, create: bool = False) -> int:
    """A descriptor of root/relative, every component opened below the previous one with O_NOFOLLOW.
    A file must be regular (fstat S_ISREG); `directory` asks for a folder, `create` makes the
    missing ones (mkdir below the held descriptor too). The caller closes it. Raises
    FileNotFoundError when something is missing and RefusedPath for a link or another kind."""
    names = components(relative)
    fd = _open_anchor(root)
    try:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            flags = (_DIR_FLAGS if directory else _FILE_FLAGS) if last else _PASS_FLAGS
            if create and flags != _FILE_FLAGS:
                with suppress(FileExistsError):
                    os.mkdir(name, 0o755, dir_fd=fd)
            try:
                child = os.open(name, flags, dir_fd=fd)
            except OSError as err:
                raise _refusal(fd, name, "/".join(names[:i + 1]), err) from None
            os.close(fd)
            fd = child
        if not names:  # the anchor itself, opened to pass through: reopen it to be read
            child = os.open(".", _DIR_FLAGS & ~os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
        if not directory and not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RefusedPath(f"{relative} is not a regular file")
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_anchor(root: str | os.PathLike[str]) -> int:
    """The anchor's descriptor, walked from / one folder at a time with O_NOFOLLOW: the anchor had
    its links resolved when it was made, so a link met now was swapped in since."""
    path = os.fspath(root)
    if not os.path.isabs(path):
        raise RefusedPath(f"root {path!r} is not absolute")
    fd = os.open("/", _PASS_FLAGS & ~os.O_NOFOLLOW)
    names = [name for name in path.split("/") if name]
    try:
        for i, name in enumerate(names):
            try:
                child = os.open(name, _PASS_FLAGS, dir_fd=fd)
            except OSError as err:
                raise _refusal(fd, name, "/" + "/".join(names[:i + 1]), err) from None
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def opened_below(root: str | os.PathLike[str], relative: str, directory: bool = False,
                 create: bool = False) -> Iterator[int]:
    fd = open_below(root, relative, directory, create)
    try:
        yield fd
    finally:
        os.close(fd)


def _pread(fd: int, start: int, count: int) -> bytes:
    """At most `count` bytes from `start`: in chunks, so a file that grows meanwhile stays capped."""
    parts, pos, left = [], start, count
    while left > 0:
        part = os.pread(fd, min(left, _CHUNK), pos)
        if not part:
            break
        parts.append(part)
        pos += len(part)
        left -= len(part)
    return b"".join(parts)


def size_below(root: str | os.PathLike[str], relative: str) -> int:
    """The file's size in bytes, 0 when it does not exist."""
    try:
        with opened_below(root, relative) as fd:
            return os.fstat(fd).st_size
    except FileNotFoundError:
        return 0


def read_whole(root: str | os.PathLike[str], relative: str, cap: int) -> bytes:
    """The whole file, which must be at most `cap` bytes (RefusedPath otherwise: nothing is read)."""
    with opened_below(root, relative) as fd:
        if os.fstat(fd).st_size > cap:
            raise RefusedPath(f"{relative} is larger than {cap} bytes: not read")
        data = _pread(fd, 0, cap + 1)
    if len(data) > cap:  # it grew since fstat
        raise RefusedPath(f"{relative} is larger than {cap} bytes: not read")
    return data


def read_prefix(root: str | os.PathLike[str], relative: str, cap: int) -> bytes:
    """At most the first `cap` bytes of the file."""
    with opened_below(root, relative) as fd:
        return _pread(fd, 0, cap)


def read_capped(root: str | os.PathLike[str], relative: str, start: int, cap: int) -> Chunk:
    """The bytes from `start` to the end, or only the last `cap` of them (`skipped` says how many
    were left out). A sparse 20 GiB file costs one read of `cap` bytes."""
    with opened_below(root, relative) as fd:
        size = os.fstat(fd).st_size
        begin = max(start, size - cap)
        return Chunk(_pread(fd, begin, min(cap, max(0, size - begin))), max(0, begin - start))


def list_capped(root: str | os.PathLike[str], relative: str, max_entries: int = MAX_LIST_ENTRIES,
                max_depth: int = MAX_LIST_DEPTH) -> Listing:
    """Regular files below root/relative (paths relative to it), never entering a link, looking at
    no more than `max_entries` directory entries and going no more than `max_depth` folders deep."""
    walker = _Walker(max_entries, max_depth)
    with opened_below(root, relative, directory=True) as top:
        walker.walk(top, "", 0)
    return walker.out


@dataclass
class _Walker:
    max_entries: int
    max_depth: int
    seen: int = 0
    stopped: bool = False  # the entry cap was reached: nothing more is looked at
    out: Listing = field(default_factory=Listing)

    def walk(self, fd: int, prefix: str, depth: int) -> None:
        folders: list[str] = []
        with os.scandir(fd) as entries:
            for entry in entries:
                if self.seen >= self.max_entries:
                    self.stopped = True
                    self.out.truncated = f"stopped after {self.max_entries} entries"
                    return
                self.seen += 1
                try:
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # compaction removes files while we list
                    continue
                if stat.S_ISREG(info.st_mode):
                    self.out.append(FileEntry(prefix + entry.name, info.st_size, info.st_mtime,
                                              info.st_ino, info.st_nlink))
                elif stat.S_ISDIR(info.st_mode):  # a link to a folder is S_ISLNK: never entered
                    folders.append(entry.name)
        if folders and depth >= self.max_depth:
            self.out.truncated = self.out.truncated or f"folders deeper than {self.max_depth} levels not listed"
            return
        for name in folders:
            if self.stopped:
                return
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError:  # removed, or swapped for a link since it was listed: not entered
                continue
            try:
                self.walk(child, f"{prefix}{name}/", depth + 1)
            finally:
                os.close(child)


def copy_into(root: str | os.PathLike[str], relative: str, folder: int) -> None:
    """Copy a regular file (no link followed) into an open folder under its own name, with its
    mode and times; a link of that name in the folder is refused, not written through."""
    name = components(relative)[-1]
    with opened_below(root, relative) as src:
        info = os.fstat(src)
        dst = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                      0o600, dir_fd=folder)
        with os.fdopen(os.dup(src), "rb") as fin, os.fdopen(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)
            fout.flush()
            os.fchmod(dst, stat.S_IMODE(info.st_mode))
            os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))


def anchor(path: Path) -> Path:
    """The trusted root of the reads: `path` with its links resolved once, when the runtime is made."""
    return Path(os.path.realpath(path))
