"""dselab's own small Java classes (runtime/java/*.java): compiled with javac on first use.

Each is compiled once per source and Cassandra version into the cache, against that version's
jars: `<cache>/<kind>/<version>-<source hash>/`. A lock makes concurrent first uses compile once;
a new source (another hash) compiles beside the old one.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

JAVA_DIR = Path(__file__).with_name("java")


def compiled(source: Path, main_class: str, java: str, classpath: str, base: Path, version: str) -> Path:
    """The folder holding `main_class` compiled from `source` against `classpath` (compiled once).
    RuntimeError (one line) when there is no javac or it fails."""
    key = f"{version}-{hashlib.sha256(source.read_bytes()).hexdigest()[:16]}"
    target = base / key
    if (target / f"{main_class}.class").is_file():
        return target
    base.mkdir(parents=True, exist_ok=True)
    with (base / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / f"{main_class}.class").is_file():
            return target
        javac = Path(java).with_name("javac")
        javac_cmd = str(javac) if javac.exists() else shutil.which("javac")
        if not javac_cmd:
            raise RuntimeError("no javac next to the java binary nor on PATH")
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=base))
        proc = subprocess.run([javac_cmd, "-nowarn", "-Xlint:-removal", "-encoding", "UTF-8", "-d", str(staging),
                               "-cp", classpath, str(source)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            first = next((line for line in proc.stderr.splitlines() if line.strip()), f"exit {proc.returncode}")
            raise RuntimeError(f"javac failed on {source.name}: {first}")
        staging.rename(target)
    return target
