"""Build (or reuse) the stand-in for the DSE 5.1 image: Debian packages plus the Maven jars only.

Two images, each tagged by a hash of what went into it, so an unchanged input is never rebuilt:
- the base: `debootstrap --variant=minbase bookworm` with a Java 17 runtime and python3, imported;
- the stand-in: the base plus Cassandra's jars (the ones dselab fetches through Maven), cqlsh's
  Python packages and the scripts in docker/standin/bin (entrypoint, nodetool, cqlsh, sstableloader).

The base's root file system needs no engine: `make_rootfs` writes it as a tar in the cache, under a
lock, and `make test` starts it in the background while the cluster lane runs (about 107 s and 117
CPU s on a fresh machine, downloads and dpkg); the docker lane then imports the tar, or waits for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("openjdk-17-jre-headless", "python3", "procps")
# Trimmed from the root file system before import: caches and docs nobody in a container reads.
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale")
PYTHON_PACKAGES = ("cqlsh", "cassandra-driver")

Say = Callable[[str], None]


def _docker(host: str, *args: str, timeout: float = 900) -> str:
    proc = subprocess.run(["docker", "-H", host, *args], capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"docker {args[0]} failed: {proc.stderr.decode(errors='replace').strip()[-500:]}")
    return proc.stdout.decode(errors="replace")


def image_exists(host: str, tag: str) -> bool:
    return subprocess.run(["docker", "-H", host, "image", "inspect", tag], capture_output=True).returncode == 0


def base_tag() -> str:
    recipe = json.dumps([SUITE, MIRROR, PACKAGES, TRIM]).encode()
    return "dselab-standin-base:" + hashlib.sha256(recipe).hexdigest()[:12]


def cache_dir() -> Path:
    """dselab's cache (DSELAB_CACHE, else XDG's): the engine's data root and the rootfs tar live there."""
    from dselab.settings import current

    return current().cache


def rootfs_tar(tag: str | None = None) -> Path:
    """Where the base's root file system waits as a tar until it is imported."""
    return cache_dir() / "standin-rootfs" / f"{(tag or base_tag()).split(':')[1]}.tar"


def make_rootfs(say: Say) -> Path:
    """The base's root file system as a tar (debootstrap, trimmed); made once, under a lock that a
    second caller waits on (the docker lane, while `make test`'s background build runs)."""
    tar = rootfs_tar()
    tar.parent.mkdir(parents=True, exist_ok=True)
    with open(tar.with_suffix(".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("waiting for the base root file system being made beside the other lanes")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if tar.exists():
            return tar
        with tempfile.TemporaryDirectory(prefix="dselab-rootfs-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            say(f"debootstrap {SUITE} with {', '.join(PACKAGES)} (about a minute)")
            proc = subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                                   SUITE, str(rootfs), MIRROR], capture_output=True, text=True, timeout=1200)
            if proc.returncode != 0:
                raise RuntimeError("debootstrap failed: " + proc.stdout.strip()[-500:] + proc.stderr.strip()[-500:])
            for part in TRIM:
                shutil.rmtree(rootfs / part, ignore_errors=True)
            partial = tar.with_suffix(".partial")
            subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True, capture_output=True)
            partial.rename(tar)  # whole or absent
    return tar


def _imported(tar: Path) -> None:
    """The engine has the base image: the tar was only the way in, and `harness.py rootfs` makes
    none again for this cache's engine."""
    tar.unlink(missing_ok=True)
    tar.parent.mkdir(parents=True, exist_ok=True)
    tar.with_suffix(".imported").touch()


def base_imported() -> bool:
    """Whether this cache's engine was given the base image (so no rootfs need be made ahead)."""
    return rootfs_tar().with_suffix(".imported").exists()


def build_base(host: str, say: Say) -> tuple[str, float]:
    tag = base_tag()
    if image_exists(host, tag):
        _imported(rootfs_tar(tag))
        return tag, 0.0
    began = time.monotonic()
    tar = make_rootfs(say)
    say(f"importing the root file system as {tag}")
    _docker(host, "import", str(tar), tag)
    _imported(tar)
    return tag, time.monotonic() - began


def _cassandra_lib() -> Path:
    from dselab.runtime import distribution

    return distribution.ensure().lib_dir


def _python_pins() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in PYTHON_PACKAGES]


def standin_tag(repo: Path, base: str) -> str:
    """The stand-in's tag: a hash of the base, the jars' manifest, the Python pins and the scripts."""
    digest = hashlib.sha256(base.encode())
    manifest = _cassandra_lib().parent / "MANIFEST.sha256.json"
    digest.update(manifest.read_bytes() if manifest.exists() else b"")
    digest.update(json.dumps(_python_pins()).encode())
    context = repo / "docker" / "standin"
    for path in sorted(p for p in context.rglob("*") if p.is_file() and p.suffix != ".md"):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
    return "dselab-standin:" + digest.hexdigest()[:12]


def build_standin(repo: Path, host: str, say: Say) -> tuple[str, float]:
    """The stand-in image's tag, built when its inputs changed; (tag, seconds spent building)."""
    base, base_s = build_base(host, say)
    tag = standin_tag(repo, base)
    if image_exists(host, tag):
        return tag, base_s
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dselab-standin-") as tmp:
        ctx = Path(tmp)
        shutil.copytree(repo / "docker" / "standin", ctx, dirs_exist_ok=True)
        shutil.copytree(_cassandra_lib(), ctx / "lib")
        say("installing cqlsh's Python packages for the image")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(ctx / "pylib"), *_python_pins()], check=True, timeout=600)
        say(f"building {tag}")
        subprocess.run(["docker", "-H", host, "build", "--quiet", "--build-arg", f"BASE_IMAGE={base}",
                        "-t", tag, str(ctx)], check=True, capture_output=True, timeout=900,
                       env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return tag, base_s + time.monotonic() - began
