"""`make test-docker`: start a private Docker engine, build or reuse the stand-in image, run a
command against them, stop the engine. Also `start` / `stop` on their own, for working by hand.

    python tests/docker_runtime/harness.py run -- pytest tests/docker_runtime
    eval "$(python tests/docker_runtime/harness.py start)"; ...; python tests/docker_runtime/harness.py stop
    python tests/docker_runtime/harness.py rootfs    # the base image's root file system only (no engine)

When no engine can run here (not root, packages missing) `run` skips with the reason and exits 0,
except with DSELAB_REQUIRE_DOCKER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from engine import DockerEngine, EngineUnavailable
from standin import base_imported, build_standin, cache_dir, make_rootfs

REPO = Path(__file__).resolve().parents[2]
OVERRIDE = REPO / "docker" / "standin" / "compose.standin.yml"


def engine() -> DockerEngine:
    return DockerEngine(repo=REPO, data_root=cache_dir() / "docker-engine")


def say(text: str) -> None:
    print(f"[docker] {text}", file=sys.stderr, flush=True)


def prepare() -> dict[str, str]:
    """Start the engine and make sure the image exists; the environment the tests run with."""
    eng = engine()
    took = eng.start()
    say(f"engine up on {eng.host} ({took:.1f}s)")
    env = eng.env()
    os.environ.update(env)
    began = time.monotonic()
    tag, built = build_standin(REPO, eng.host, say)
    how = f"built in {built:.0f}s" if built else "cached"
    say(f"image {tag} ready ({how}, {time.monotonic() - began:.1f}s)")
    env.update({
        "DSELAB_DSE_IMAGE": tag,
        "DSELAB_COMPOSE_FILES": os.pathsep.join([str(REPO / "docker-compose.yml"), str(OVERRIDE)]),
        "DSELAB_COMPOSE_PROJECT": "dselab-ci",
        "DSELAB_DOCKER_PULL": "never",  # no registry is reachable: a missing image must be named, not pulled
    })
    return env


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "start", "stop", "rootfs"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "rootfs":  # best effort, ahead of the lane: the lane reports any failure itself
        if os.geteuid() != 0 or not shutil.which("debootstrap"):
            say("rootfs: skipped (needs root and debootstrap)")
            return 0
        if base_imported():
            say("rootfs: skipped (the engine in this cache has the base image)")
            return 0
        try:
            say(f"rootfs ready: {make_rootfs(say)}")
        except (OSError, RuntimeError, subprocess.SubprocessError) as err:
            say(f"rootfs: not made ahead ({err}); the docker lane makes it")
        return 0
    if argv[0] == "stop":
        engine().stop()
        return 0
    try:
        env = prepare()
    except EngineUnavailable as err:
        if os.environ.get("DSELAB_REQUIRE_DOCKER") == "1":
            say(f"FAILED: {err} (DSELAB_REQUIRE_DOCKER=1: the docker-runtime tests must run)")
            return 1
        say(f"SKIPPED: {err}")
        return 0
    if argv[0] == "start":
        print("\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items()))
        return 0
    command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    try:
        return subprocess.run(command, env={**os.environ, **env}).returncode
    finally:
        engine().stop()
        say("engine stopped")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
