"""A private Docker engine for the docker-runtime tests: started and stopped by the test run.

It never touches a system Docker: its own socket, exec root and data root, and no networking
beyond the host's own (no bridge, no iptables, no masquerading, no forwarding). Any network
compose might try to create would get an address from 127.80.0.0/16, so it fails loudly
instead of appearing on a 172.x range. Containers use `network_mode: host` only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30

ENGINE_FLAGS = [
    "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
    "--default-address-pool", "base=127.80.0.0/16,size=24",
    "--storage-driver=overlay2",
]


class EngineUnavailable(RuntimeError):
    """No engine can run here (not root, package missing): the tests skip, or fail in CI."""


def _short_run_dir(repo: Path) -> Path:
    # Unix socket paths are limited to 108 bytes; containerd nests its sockets deep in the exec root.
    tag = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:8]
    return Path("/tmp") / f"dselab-docker-{tag}"


@dataclass
class DockerEngine:
    repo: Path
    data_root: Path  # images live here; outside the repository so a second run reuses them

    @property
    def run_dir(self) -> Path:
        return _short_run_dir(self.repo)

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log_file(self) -> Path:
        return self.repo / "build" / "docker" / "dockerd.log"

    def unavailable_reason(self) -> str | None:
        if os.geteuid() != 0:
            return "the docker-runtime tests start their own Docker engine, which needs root"
        for tool in ("dockerd", "debootstrap"):
            if shutil.which(tool) is None:
                return f"{tool} is not installed (run `make docker-deps` as root)"
        if shutil.which("docker-compose") is None and shutil.which("docker") is None:
            return "neither `docker compose` nor `docker-compose` is installed (run `make docker-deps`)"
        return None

    def _pid(self) -> int | None:
        pid_file = self.run_dir / "dockerd.pid"
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def start(self) -> float:
        """Start the engine (or reuse the one already on this socket); seconds it took."""
        reason = self.unavailable_reason()
        if reason:
            raise EngineUnavailable(reason)
        began = time.monotonic()
        if self._pid() and self.answers():
            return 0.0
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_root.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        argv = ["dockerd", "-H", self.host, "--data-root", str(self.data_root),
                "--exec-root", str(self.run_dir / "exec"), "--pidfile", str(self.run_dir / "dockerd.pid"),
                *ENGINE_FLAGS]
        with self.log_file.open("ab") as log:
            subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        while time.monotonic() - began < START_TIMEOUT_S:
            if self.answers():
                return time.monotonic() - began
            time.sleep(0.3)
        tail = self.log_file.read_text(errors="replace").splitlines()[-5:]
        raise EngineUnavailable(f"dockerd did not answer within {START_TIMEOUT_S}s: " + " | ".join(tail))

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        proc = subprocess.run(["docker", "-H", self.host, "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, text=True, timeout=10)
        return proc.returncode == 0

    def stop(self) -> None:
        """Stop the engine, then undo the mounts it leaves behind (its netns and overlay mounts)."""
        pid = self._pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while time.monotonic() < deadline and self._pid():
                time.sleep(0.3)
            if self._pid():
                os.kill(pid, signal.SIGKILL)
        for mount in self._mounts_under(self.run_dir) + self._mounts_under(self.data_root):
            subprocess.run(["umount", "-l", mount], capture_output=True)

    @staticmethod
    def _mounts_under(root: Path) -> list[str]:
        prefix = str(root.resolve()) + "/"
        found = []
        for line in Path("/proc/self/mounts").read_text().splitlines():
            target = line.split()[1].replace("\\040", " ")
            if target.startswith(prefix):
                found.append(target)
        return sorted(found, key=len, reverse=True)  # innermost first

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host}
