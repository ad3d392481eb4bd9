"""A pristine cluster template: the lab cluster as it stands when the environment is ready, kept once
per machine and reused for every later fresh cluster (issue 17, item 2).

The first fresh `up` for a given key brings the cluster up the long way (seed and node-1, data
loaded, dse-node-2 bootstraps), then drains and stops the three nodes and keeps a copy of their
state folders (data/, commitlog/, saved_caches/, hints/, cdc_raw/: not conf/, which is written for
each home, nor logs/) under `<cache>/templates/<key>/` with a manifest of every file's size and
SHA-256. A later fresh cluster with the same key is made from it: the manifest is verified first
(any difference: the template is refused, removed and built again), the SSTables' immutable bodies
are hard-linked, everything else is copied, and the three nodes start.

The key is a digest of everything baked into the files or into how they were made: dselab's
template format, the Cassandra version and the checksum of its jars, each node's cassandra.yaml
and JVM flags (with the home's folders and JMX port taken out: they are not in the data), the
loopback prefix (system.local and system.peers hold the nodes' addresses), the cluster name, and
the environment's data (its schema and expected fingerprint). Anything else changes: another key,
another template. Templates are shared by every DSELAB_HOME of the machine; a lock file per key
keeps two `up`s from building one twice or reading one half built, and a template appears by
rename, whole or not at all.

Hard links and the template (a reflink is used instead where the filesystem has them, and then a
write into a clone never reaches the template): Cassandra never writes into an SSTable's Data.db or Index.db once it
is written (compaction writes new files and unlinks the old names), so a clone may share those
inodes with the template; deleting or compacting in a clone only drops the clone's name. But a
student who writes into a live SSTable (`echo x >> ...-Data.db`) writes into the shared inode, and
so into the template: that is why the manifest is checked before every reuse, and a changed
template is refused and built again. The small sidecar files (Statistics.db, Summary.db, which
Cassandra may rewrite in place, Filter.db, TOC.txt ...) are always copied. A classroom seat is
another Unix user than the template's maker: its clone copies every file (link_or_copy), and it
reads the template under a shared lock without ever writing beside it (Template.shared).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dselab.runtime.local_config import cassandra_yaml, server_jvm_args
from dselab.settings import Settings

if TYPE_CHECKING:
    from dselab.runtime.local import LocalRuntime

FORMAT = 1  # bump when what a template holds, or how it is made, changes
STATE_DIRS = ("data", "commitlog", "saved_caches", "hints", "cdc_raw")  # a node's folders a restart needs
MANIFEST = "manifest.json"
NODES = "nodes"
# An SSTable's large immutable components: linked, not copied. Everything else is copied.
LINKED = re.compile(r"^[a-z]{2}-\d+-(big|bti)-(Data\.db|Index\.db|Partitions\.db|Rows\.db)$")


class TemplateRefused(Exception):
    """A template whose files are not those its manifest lists."""


@dataclass(frozen=True)
class FileRecord:
    size: int
    sha256: str

    def to_json(self) -> list[Any]:
        return [self.size, self.sha256]


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def template_key(parts: Mapping[str, Any]) -> str:
    """The digest of everything a template was made from (`parts` must be JSON)."""
    text = json.dumps({"format": FORMAT, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def is_linked(relative: str) -> bool:
    """Whether a file of a node (path relative to the node's folder) is an immutable SSTable body
    that a clone may share with the template: data/<keyspace>/<table>/<component>, never in a
    snapshot or a backup folder (a student's files live there)."""
    parts = relative.split("/")
    return len(parts) == 4 and parts[0] == "data" and bool(LINKED.match(parts[3]))


def walk_files(top: Path) -> Iterator[str]:
    """Every regular file below `top`, as a relative path with '/'; a link or other special file
    is an error (a template and a node's state hold none)."""
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                raise TemplateRefused(f"{path.relative_to(top)} is not a regular file")
            yield path.relative_to(top).as_posix()


def scan(top: Path) -> dict[str, FileRecord]:
    return {rel: FileRecord((top / rel).stat().st_size, sha256_file(top / rel)) for rel in walk_files(top)}


def copy_file(src: Path, dst: Path) -> None:
    """A copy that keeps holes: a commit log segment is a 32 MiB file that is mostly a hole."""
    with src.open("rb") as fin, dst.open("wb") as fout:
        fd = fin.fileno()
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # no SEEK_DATA on this filesystem: copy the rest as it is
                    fin.seek(pos)
                    fout.seek(pos)
                    shutil.copyfileobj(fin, fout, 1 << 20)
                break  # ENXIO: only a hole is left
            end = os.lseek(fd, start, os.SEEK_HOLE)
            fin.seek(start)
            fout.seek(start)
            left = end - start
            while left > 0:
                chunk = fin.read(min(left, 1 << 20))
                if not chunk:
                    break
                fout.write(chunk)
                left -= len(chunk)
            pos = end
        fout.truncate(size)
    shutil.copystat(src, dst)


FICLONE = 0x40049409  # Linux's ioctl that makes dst a copy-on-write clone of src (btrfs, XFS)


def reflink(src: Path, dst: Path) -> bool:
    """Make `dst` a copy-on-write clone of `src` where the filesystem can; False (and no `dst`) where not."""
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            fcntl.ioctl(fout.fileno(), FICLONE, fin.fileno())
    except OSError:
        dst.unlink(missing_ok=True)
        return False
    shutil.copystat(src, dst)
    return True


def link_or_copy(src: Path, dst: Path) -> bool:
    """`dst` shares `src`'s blocks: a reflink where the filesystem offers one (a write into the clone
    then leaves the template alone), else a hard link (the same inode) when the template's file is
    this user's own; a plain copy otherwise. True: shared, not copied.

    Another user's template (a classroom seat reading the class's) is never hard-linked: the clone
    would hold files it may not write, and Cassandra's snapshots hard-link them again, which
    `fs.protected_hardlinks` refuses for a file one does not own."""
    if reflink(src, dst):
        return True
    try:
        if src.stat().st_uid == os.geteuid():
            os.link(src, dst)
            return True
    except OSError:
        pass
    copy_file(src, dst)
    return False


class Template:
    """One template folder (`<templates>/<key>/`) and its lock."""

    def __init__(self, templates: Path, key: str) -> None:
        self.templates = templates
        self.key = key
        self.folder = templates / key
        self.lock_file = templates / f"{key}.lock"

    @property
    def short(self) -> str:
        return self.key[:12]

    def exists(self) -> bool:
        return (self.folder / MANIFEST).is_file()

    def writable(self) -> bool:
        """Whether this process may make and lock templates here (a seat user may not, in a
        classroom's shared cache)."""
        try:
            self.templates.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.templates, os.W_OK | os.X_OK)

    @contextmanager
    def locked(self, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
        """Held while a template is checked, cloned or built: one process at a time per key."""
        self.templates.mkdir(parents=True, exist_ok=True)
        # 0600: another user (a classroom seat) could otherwise hold the lock and stall every `up`
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting:
                    waiting(f"waiting for another dselab that is making or reading template {self.short}")
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.folder / MANIFEST).read_text())
        return data

    def verify(self) -> dict[str, Any]:
        """The manifest, once every file of the template is checked against it; TemplateRefused
        says what differs."""
        try:
            manifest = self.manifest()
        except (OSError, ValueError) as exc:
            raise TemplateRefused(f"its manifest cannot be read ({exc})") from None
        if manifest.get("format") != FORMAT or manifest.get("key") != self.key:
            raise TemplateRefused("its manifest is for another key or format")
        listed: dict[str, list[Any]] = manifest.get("files", {})
        nodes = self.folder / NODES
        present = set(walk_files(nodes)) if nodes.is_dir() else set()
        extra, missing = sorted(present - set(listed)), sorted(set(listed) - present)
        if extra or missing:
            raise TemplateRefused(f"files {'added' if extra else 'missing'}: {(extra or missing)[0]}"
                                  + (f" and {len(extra or missing) - 1} more" if len(extra or missing) > 1 else ""))
        for rel, (size, digest) in sorted(listed.items()):
            path = nodes / rel
            if path.stat().st_size != size or sha256_file(path) != digest:
                raise TemplateRefused(f"{rel} changed since the template was made")
        return manifest

    def remove(self) -> None:
        if self.folder.exists():
            trash = self.templates / f"{self.key}.trash-{os.getpid()}"
            self.folder.rename(trash)  # gone at once for any reader; deleted at leisure
            shutil.rmtree(trash, ignore_errors=True)

    def capture(self, node_roots: Mapping[str, Path], record: Mapping[str, Any], parts: Mapping[str, Any]) -> int:
        """Copy the stopped nodes' state folders into a new template with its manifest; the number
        of files kept. Built aside and renamed into place: a template is whole or absent."""
        staging = self.templates / f"{self.key}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for node, root in node_roots.items():
                for sub in STATE_DIRS:
                    src_top = root / sub
                    for rel in walk_files(src_top) if src_top.is_dir() else ():
                        dst = staging / NODES / node / sub / rel
                        dst.parent.mkdir(parents=True, exist_ok=True)
                        copy_file(src_top / rel, dst)
                    (staging / NODES / node / sub).mkdir(parents=True, exist_ok=True)
            files = scan(staging / NODES)
            manifest = {"format": FORMAT, "key": self.key, "made_at": time.time(), "parts": dict(parts),
                        "record": dict(record), "nodes": sorted(node_roots),
                        "files": {rel: f.to_json() for rel, f in files.items()}}
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
            os.chmod(staging, 0o755)
            self.remove()
            staging.rename(self.folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return len(files)

    def clone(self, manifest: Mapping[str, Any], node_roots: Mapping[str, Path]) -> tuple[int, int]:
        """Lay the template's nodes into `node_roots` (folders that must not exist yet): immutable
        SSTable bodies linked, the rest copied. (linked, copied) files. Each node is made aside and
        renamed into place."""
        linked = copied = 0
        for node, root in node_roots.items():
            if root.exists():
                raise FileExistsError(f"{root} exists: a clone goes only where no node is")
            src = self.folder / NODES / node
            staging = root.with_name(f"{root.name}.template-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            for sub in STATE_DIRS:
                (staging / sub).mkdir(parents=True, exist_ok=True)
            prefix = f"{node}/"
            for rel in sorted(r for r in manifest["files"] if r.startswith(prefix)):
                inner = rel[len(prefix):]
                dst = staging / inner
                dst.parent.mkdir(parents=True, exist_ok=True)
                if is_linked(inner) and link_or_copy(src / inner, dst):
                    linked += 1
                else:
                    copy_file(src / inner, dst)
                    copied += 1
            root.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(root)
        return linked, copied


# -- the lab cluster of the local runtime --------------------------------------------------------

def templates_folder(settings: Settings) -> Path:
    """Where templates live: DSELAB_TEMPLATE_DIR, else the cache's templates/ (shared by every
    DSELAB_HOME of the machine)."""
    return settings.template_dir or settings.cache / "templates"


def jars_digest(lib_dir: Path) -> str:
    """The distribution's checksum: its verified manifest of jar SHA-256s when it is the cache's
    download, else every jar's name, size and time (CASSANDRA_HOME)."""
    digest = hashlib.sha256()
    manifest = lib_dir.parent / "MANIFEST.sha256.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    else:
        for jar in sorted(lib_dir.glob("*.jar")):
            info = jar.stat()
            digest.update(f"{jar.name}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def lab_key_parts(runtime: LocalRuntime, data_version: str) -> dict[str, Any]:
    """What a template of this runtime's cluster is made from (template_key's input)."""
    dist = runtime.dist
    nodes = {}
    for name, spec in sorted(runtime.specs.items()):
        def plain(text: str, root: str = str(spec.root)) -> str:
            return text.replace(root, "<node>").replace(str(dist.lib_dir), "<lib>")

        jvm = [plain(arg) for arg in server_jvm_args(spec, dist.jamm_agent)
               if not arg.startswith("-Dcassandra.jmx.local.port=")]  # JMX is not in the data
        nodes[name] = {"address": spec.address, "yaml": plain(cassandra_yaml(spec)), "jvm": jvm}
    return {"cluster": runtime.cluster, "cassandra": dist.version, "jars": jars_digest(dist.lib_dir),
            "loopback": runtime.settings.loopback, "nodes": nodes, "data": data_version}


def lab_template(runtime: LocalRuntime, data_version: str) -> Template:
    return Template(templates_folder(runtime.config), template_key(lab_key_parts(runtime, data_version)))


def node_roots(runtime: LocalRuntime) -> dict[str, Path]:
    return {name: spec.root for name, spec in runtime.specs.items()}
