"""The wheel is the product: built from the checkout, installed into a fresh venv in a temporary
folder outside the repository, and used from there (init, show, build-site, start and a live check).

pip takes the dependencies from its cache or PyPI; the phases' times are written to
build/test-artifacts/wheel-install.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dselab import service

CHECKOUT = Path(__file__).resolve().parents[2]
TIMES = CHECKOUT / "build" / "test-artifacts" / "wheel-install.json"
NOT_SOURCE = shutil.ignore_patterns(".venv", "build", ".git", "*.egg-info", "__pycache__", ".*_cache", "grades")

pytestmark = pytest.mark.integration


@dataclass
class Installed:
    """A fresh venv holding only the wheel (and its dependencies), with `dselab` alone on PATH."""

    root: Path
    venv: Path
    times: dict[str, float] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        path = [str(self.root / "bin")] + [p for p in os.environ["PATH"].split(os.pathsep)
                                            if p and not Path(p).resolve().is_relative_to(CHECKOUT)]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "DSELAB_LABS")}
        return {**env, "PATH": os.pathsep.join(path), **extra}

    def run(self, command: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", command], cwd=cwd, env=self.env(**extra), capture_output=True,
                              text=True, timeout=600)


def _timed(times: dict[str, float], name: str, argv: list[str]) -> None:
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    times[name] = round(time.monotonic() - started, 1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("wheel-install")
    assert not root.resolve().is_relative_to(CHECKOUT)
    source = root / "source"  # a copy: setuptools writes build/ and egg-info where it builds
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCE)
    inst = Installed(root, root / "venv")
    _timed(inst.times, "build_wheel_s", [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                                         "--wheel-dir", str(root / "dist"), str(source)])
    shutil.rmtree(source)
    (wheel,) = (root / "dist").glob("dselab-*.whl")
    started = time.monotonic()
    venv.create(inst.venv, with_pip=False)  # this venv's pip installs into it (pip --python): no ensurepip
    inst.times["create_venv_s"] = round(time.monotonic() - started, 1)
    _timed(inst.times, "pip_install_s", [sys.executable, "-m", "pip", "--python", str(inst.venv / "bin" / "python"),
                                         "install", "--quiet", "--disable-pip-version-check", str(wheel)])
    (root / "bin").mkdir()
    (root / "bin" / "dselab").symlink_to(inst.venv / "bin" / "dselab")  # as pipx exposes it
    yield inst
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    TIMES.write_text(json.dumps(inst.times, indent=2) + "\n")
    shutil.rmtree(root, ignore_errors=True)  # the venv is a few hundred MB


def test_the_installed_wheel_carries_its_content_and_works_offline(installed: Installed) -> None:
    home = {"DSELAB_HOME": str(installed.root / "home")}
    where = installed.run(f"{installed.venv}/bin/python -c 'from dselab import resources; print(resources.content_root())'",
                          cwd=installed.root, **home)
    assert where.returncode == 0, where.stderr
    content = Path(where.stdout.strip())
    assert content.parts[-3:] == ("site-packages", "dselab", "content")
    for shipped in ("labs/05-backup-restore/lab.yaml", "checks/lab05_backup_restore.py", "site/templates/step.html",
                    "scripts/nodetool.sh", "docker-compose.yml", "docker-compose.override.yml",
                    "site/static/vendor/xterm/xterm.js"):
        if (CHECKOUT / shipped).exists():  # the vendored xterm.js exists after `make frontend`
            assert (content / shipped).is_file(), f"{shipped} is missing from the wheel"

    started = time.monotonic()
    init = installed.run("dselab init lab", cwd=installed.root, **home)
    assert init.returncode == 0, init.stderr
    lab = installed.root / "lab"
    assert (lab / "scripts" / "nodetool.sh").is_file() and (lab / "README.md").is_file()
    assert (lab / "labs" / "05-backup-restore" / "data" / "new-rows.cql").is_file()
    assert "90-example" not in init.stdout and not (lab / "labs" / "90-example").exists()  # tests stay out

    show = installed.run("dselab show 05 1", cwd=lab, **home)
    assert show.returncode == 0, show.stderr
    assert "Take a snapshot of the training keyspace" in show.stdout
    assert "./scripts/nodetool.sh snapshot training -t lab_backup" in show.stdout

    site = installed.run("dselab build-site --out site", cwd=lab, **home)
    assert site.returncode == 0, site.stderr
    assert (lab / "site" / "index.html").is_file() and (lab / "site" / "static" / "lab.css").is_file()
    assert (lab / "site" / "labs" / "05-backup-restore" / "snapshot.html").is_file()

    again = installed.run("dselab init lab", cwd=installed.root, **home)
    assert again.returncode == 2 and "is not empty" in again.stderr
    installed.times["init_show_build_site_s"] = round(time.monotonic() - started, 1)


def test_the_installed_dselab_checks_the_live_cluster_from_an_init_folder(installed: Installed,
                                                                           lab_workspace: service.Workspace,
                                                                           tmp_path: Path) -> None:
    """The session cluster (same DSELAB_HOME, loopback and JMX range); commands typed verbatim."""
    cluster = {k: os.environ[k] for k in ("DSELAB_HOME", "DSELAB_LOOPBACK", "DSELAB_JMX_BASE", "DSELAB_RUNTIME")}
    lab = tmp_path / "lab"
    assert installed.run(f"dselab init {lab}", cwd=tmp_path, **cluster).returncode == 0
    started = time.monotonic()
    try:
        opened = installed.run("dselab start 05", cwd=lab, **cluster)  # the cluster runs: only the baseline
        assert opened.returncode == 0, opened.stdout + opened.stderr
        assert "Take a snapshot of the training keyspace" in opened.stdout
        assert "Check buttons: dselab serve, then open" in opened.stdout  # dselab is on PATH here
        installed.run("./scripts/nodetool.sh clearsnapshot training -t lab_backup", cwd=lab, **cluster)
        before = installed.run("dselab check 05 1", cwd=lab, **cluster)
        assert before.returncode == 1, before.stdout + before.stderr
        assert "FAIL  step 1 (snapshot)" in before.stdout

        took = installed.run("./scripts/nodetool.sh snapshot training -t lab_backup", cwd=lab, **cluster)
        assert took.returncode == 0, took.stderr
        after = installed.run("dselab check 05 1", cwd=lab, **cluster)
        assert after.returncode == 0, after.stdout + after.stderr
        assert "PASS  step 1 (snapshot)" in after.stdout

        # cqlsh comes with dselab; it is found beside the interpreter, though only dselab is on PATH.
        count = installed.run("./scripts/cqlsh.sh -e 'SELECT count(*) FROM training.customers;'", cwd=lab, **cluster)
        assert count.returncode == 0, count.stderr
        assert "(1 rows)" in count.stdout
    finally:
        installed.run("./scripts/nodetool.sh clearsnapshot training -t lab_backup", cwd=lab, **cluster)
    installed.times["live_check_s"] = round(time.monotonic() - started, 1)
