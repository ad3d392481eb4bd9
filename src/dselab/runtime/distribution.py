"""Fetch Apache Cassandra through Maven, verify it, cache it outside the repository.

Maven Central does not carry a 5.0 binary tarball (`apache-cassandra:...:tar.gz:bin` stops at
4.0-alpha2), so we fetch `org.apache.cassandra:cassandra-all` and its runtime dependencies with
`mvn dependency:copy-dependencies --strict-checksums` (Maven checks each file against the
registry's .sha1) and then check the main jar against a SHA-256 pinned here. A later run reuses
the cache after re-checking a manifest of every jar's SHA-256.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dselab.command_failure import reason_line
from dselab.errors import EnvironmentProblem
from dselab.progress import Progress, Silent
from dselab.settings import Settings, resolve

DEFAULT_VERSION = "5.0.9"
# SHA-256 of cassandra-all-<version>.jar as served by Maven Central, checked by hand once.
PINNED_SHA256 = {
    "5.0.9": "6a80e6fddde88817deec4839ae431e3a9c4eeb728560336890094c6f870fef5e",
    # The DSE 5.1 generation's nodetool (runtime/legacy_nodetool.py), a client only.
    "3.11.19": "075b1520033afe89292a00809545c0bb03a5daad5a002ade3e7761d3642f1e81",
}

POM_TEMPLATE = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dselab</groupId>
  <artifactId>cassandra-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""


@dataclass(frozen=True)
class Distribution:
    """A usable Cassandra: where its jars are and which version it is."""

    version: str
    lib_dir: Path
    source: str  # "maven cache" or "CASSANDRA_HOME"

    @property
    def classpath(self) -> str:
        return str(self.lib_dir / "*")

    @property
    def jamm_agent(self) -> Path | None:
        jars = sorted(self.lib_dir.glob("jamm-*.jar"))
        return jars[-1] if jars else None


def wanted_version(settings: Settings | None = None) -> str:
    return resolve(settings).cassandra_version or DEFAULT_VERSION


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _from_home(home: Path) -> Distribution:
    lib = home / "lib"
    jars = sorted(lib.glob("apache-cassandra-*.jar")) + sorted(lib.glob("cassandra-all-*.jar"))
    if not jars:
        raise EnvironmentProblem(
            f"CASSANDRA_HOME={home} has no apache-cassandra-*.jar in lib/",
            fix="point CASSANDRA_HOME at an unpacked Cassandra 5.0 binary distribution, or unset it",
        )
    version = jars[0].stem.replace("apache-cassandra-", "").replace("cassandra-all-", "")
    return Distribution(version=version, lib_dir=lib, source="CASSANDRA_HOME")


def _verify_cache(target: Path, version: str) -> bool:
    manifest = target / "MANIFEST.sha256.json"
    if not manifest.exists():
        return False
    recorded: dict[str, str] = json.loads(manifest.read_text())
    lib = target / "lib"
    on_disk = {p.name for p in lib.glob("*.jar")}
    if on_disk != set(recorded):
        return False
    return all(_sha256(lib / name) == digest for name, digest in recorded.items())


def ensure(progress: Progress | None = None, cassandra_home: str | None = None,
           settings: Settings | None = None) -> Distribution:
    """Return a verified distribution, downloading it once if needed."""
    progress = progress or Silent()
    settings = resolve(settings)
    home = cassandra_home or settings.cassandra_home
    if home:
        return _from_home(Path(home))
    return fetched(wanted_version(settings), settings, progress)


def fetched(version: str, settings: Settings | None = None, progress: Progress | None = None) -> Distribution:
    """`cassandra-all` `version` and its dependencies from the Maven cache, fetched and verified
    once (the nodes' Cassandra, and the 3.11 jars the course's nodetool runs on)."""
    progress = progress or Silent()
    target = resolve(settings).cache / f"cassandra-{version}"
    if _verify_cache(target, version):  # the usual case; also where the cache is read-only (a seat's)
        return Distribution(version=version, lib_dir=target / "lib", source="maven cache")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Two commands started at once (CI's lanes, two terminals) fetch once: the second waits on the lock,
    # then finds the verified cache instead of removing the first one's staging folder under it.
    with target.with_name(target.name + ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _verify_cache(target, version):
            return Distribution(version=version, lib_dir=target / "lib", source="maven cache")
        if target.exists():
            progress.step(f"cached Cassandra {version} failed verification; fetching it again")
            shutil.rmtree(target)
        return _download(version, target, progress)


def _download(version: str, target: Path, progress: Progress) -> Distribution:
    mvn = shutil.which("mvn")
    if not mvn:
        raise EnvironmentProblem(
            "mvn (Apache Maven) is not on PATH; it is needed once to fetch Cassandra",
            fix="install Maven (e.g. `apt-get install maven`) or set CASSANDRA_HOME",
        )
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "pom.xml").write_text(POM_TEMPLATE.format(version=version))
    progress.step(f"fetching Cassandra {version} and its dependencies through Maven")
    cmd = [
        mvn, "-B", "-q", "--strict-checksums", "-f", str(staging / "pom.xml"),
        "dependency:copy-dependencies", "-DincludeScope=runtime",
        f"-DoutputDirectory={staging / 'lib'}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise EnvironmentProblem(
            f"Maven could not fetch cassandra-all {version}: {reason_line(proc.stdout, proc.stderr)}",
            fix="check that Maven reaches its registry, or set CASSANDRA_HOME to an existing install",
        )
    main_jar = staging / "lib" / f"cassandra-all-{version}.jar"
    if not main_jar.exists():
        raise EnvironmentProblem(f"Maven finished but {main_jar.name} is missing")
    pinned = PINNED_SHA256.get(version)
    actual = _sha256(main_jar)
    if pinned and actual != pinned:
        shutil.rmtree(staging, ignore_errors=True)
        raise EnvironmentProblem(
            f"checksum mismatch for {main_jar.name}: expected {pinned}, got {actual}",
            fix="the download is corrupt or tampered with; run again, or use CASSANDRA_HOME",
        )
    progress.step("recording checksums of the downloaded jars")
    manifest = {p.name: _sha256(p) for p in sorted((staging / "lib").glob("*.jar"))}
    (staging / "MANIFEST.sha256.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    staging.rename(target)
    progress.done(f"Cassandra {version} ready ({len(manifest)} jars, cached in {target})")
    return Distribution(version=version, lib_dir=target / "lib", source="maven cache")
