"""What every seat runs, readable by all seat users and writable by none: a Python that imports
the server's dselab (so the student scripts work verbatim) and the Cassandra jars.

The server's own interpreter may live where seat users cannot reach (pyenv under /root, as on
the build machines), so seats get a small venv made from a reachable interpreter of the same
minor version, whose site-packages points at the server's (a .pth file, no second install).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field, replace
from pathlib import Path

from dselab import bytecode
from dselab.classroom.layout import Layout, world_reachable
from dselab.errors import DselabError, EnvironmentProblem
from dselab.progress import Progress, Silent
from dselab.runtime import distribution
from dselab.settings import Settings
from dselab.settings import current as current_settings

SEAT_COMMANDS = ("dselab", "cqlsh")  # console scripts the seat's PATH must offer


@dataclass(frozen=True)
class Toolchain:
    venv: Path
    cache: Path  # DSELAB_CACHE for seats (holds cassandra-<version>/)
    cassandra_home: str | None = None  # when the server runs an existing install instead
    templates: Path | None = None  # the seats' cluster templates (None: seats make their clusters the long way)
    # The server's settings, for what seats inherit from them (node profile, limits, Java).
    settings: Settings = field(default_factory=current_settings, compare=False, repr=False)

    @property
    def bin_dir(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin_dir / "python"

    @property
    def home_template(self) -> Path:
        """What every seat's home starts with (the seat user copies it in)."""
        return self.venv.parent / "home"


def _reachable_python() -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = getattr(sys, "_base_executable", sys.executable)  # the interpreter behind a venv
    candidates = [Path(sys.executable), Path(base), Path(f"/usr/bin/python{version}"),
                  Path(f"/usr/local/bin/python{version}")]
    for candidate in candidates:
        if candidate.exists() and world_reachable(candidate) and _minor(candidate) == version:
            return candidate
    raise EnvironmentProblem(f"no Python {version} that seat users may run (the server's is {sys.executable})",
                             fix=f"install python{version} system-wide (e.g. apt-get install python{version}-venv)")


def _minor(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True)
    return out.stdout.strip()


def _make_venv(venv: Path) -> None:
    server_site = Path(sysconfig.get_paths()["purelib"])
    if not world_reachable(server_site):
        raise EnvironmentProblem(f"seat users cannot read the server's packages in {server_site}",
                                 fix="install dselab where every user can read it (e.g. a venv under /opt)")
    pth_line = f"import site; site.addsitedir({str(server_site)!r})\n"
    ours = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    if not (ours / "dselab-server.pth").exists() or (ours / "dselab-server.pth").read_text() != pth_line:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(_reachable_python()), "-m", "venv", "--without-pip", str(venv)], check=True,
                       capture_output=True)
        (ours / "dselab-server.pth").write_text(pth_line)
    server_bin = Path(sys.executable).parent
    for name in SEAT_COMMANDS:
        source = server_bin / name
        if not source.exists():
            raise EnvironmentProblem(f"{source} is missing", fix="run `make setup` (pip installs it)")
        body = source.read_text().split("\n", 1)[1]
        target = venv / "bin" / name
        target.write_text(f"#!{venv / 'bin' / 'python'}\n{body}")
        target.chmod(0o755)


def _share_cassandra(cache: Path, progress: Progress, settings: Settings) -> str | None:
    """The server's verified Cassandra jars, hard-linked (or copied) into the shared cache."""
    dist = distribution.ensure(progress, settings=settings)
    if dist.source == "CASSANDRA_HOME":
        home = str(dist.lib_dir.parent)
        if not world_reachable(dist.lib_dir):
            raise EnvironmentProblem(f"seat users cannot read CASSANDRA_HOME={home}",
                                     fix="put the install where every user can read it, or unset CASSANDRA_HOME")
        return home
    source = dist.lib_dir.parent
    target = cache / source.name
    if not (target / "MANIFEST.sha256.json").exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, copy_function=_link_or_copy)
    return None


def _prepare_nodetool(layout: Layout, cache: Path, cassandra_home: str | None, progress: Progress) -> None:
    """What makes nodetool fast for seats and observers, who may not write the shared cache, made
    there by root from the shared jars and its own tools' conf, asking no node (nothing a seat
    controls): nodetool's class archive (runtime.class_archive), which every nodetool JVM maps
    (about 0.5 s of CPU less each), and the warm nodetool server compiled (runtime.nodetool_server),
    which a student's and an observer's server then run instead of a JVM per call."""
    from dselab.runtime import nodetool_server
    from dselab.runtime.local import LocalRuntime

    settings = replace(layout.settings, cache=cache, tools_conf=layout.tools_conf, cassandra_home=cassandra_home)
    runtime = LocalRuntime(config=settings)
    try:
        made = runtime.prepare_tool_archive()
    except DselabError as err:
        made, why = False, err.one_line()
    else:
        why = "class archives are off (DSELAB_CLASS_ARCHIVES=0)" if not settings.class_archives else "no archive written"
    progress.step("nodetool's class archive ready" if made else f"nodetool runs without a class archive: {why}")
    try:
        nodetool_server.compiled(runtime.warm_nodetool_launch(runtime.spec(runtime.node_names()[0])))
    except (DselabError, RuntimeError, OSError) as err:
        why = err.one_line() if isinstance(err, DselabError) else str(err)  # javac's error is one line already
        progress.step(f"no warm nodetool in seats (a JVM per call): {why}")
    else:
        progress.step("warm nodetool server compiled")


def _compile_sources(layout: Layout, progress: Progress) -> None:
    """dselab's modules and the labs' checks compiled by root where they live: seats and observers may
    not write beside them, and would otherwise compile them on every command and every Check."""
    failed = bytecode.precompile(layout.settings)
    progress.step("dselab's modules compiled for the seats" if not failed
                  else f"some modules in {', '.join(map(str, failed))} do not compile: seats run them from source")


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


BASHRC = 'PS1="${DSELAB_SEAT:-seat}@dselab:\\w\\$ "\ncd "$HOME"\n'


def make_home_template(template: Path, dselab: Path) -> None:
    """scripts/ (calling `dselab`, the seats' own) and the labs' files, a prompt naming the seat."""
    from dselab.catalogue import load_all
    from dselab.lab_folder import folder_files  # what `dselab init` writes

    shutil.rmtree(template, ignore_errors=True)
    for relative, (content, executable) in folder_files(load_all(), dselab).items():
        target = template / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(0o755 if executable else 0o644)
    (template / ".bashrc").write_text(BASHRC)
    (template / ".bash_profile").write_text("[ -f ~/.bashrc ] && . ~/.bashrc\n")


def ensure(layout: Layout, progress: Progress | None = None) -> Toolchain:
    progress = progress or Silent()
    venv, cache = layout.toolchain / "venv", layout.toolchain / "cache"
    progress.step("preparing the seats' toolchain (Python, Cassandra jars)")
    _make_venv(venv)
    cache.mkdir(parents=True, exist_ok=True)
    home = _share_cassandra(cache, progress, layout.settings)
    _prepare_nodetool(layout, cache, home, progress)
    make_home_template(layout.toolchain / "home", venv / "bin" / "dselab")
    _compile_sources(layout, progress)
    for dirpath, dirnames, filenames in os.walk(layout.toolchain):
        for name in dirnames:
            Path(dirpath, name).chmod(0o755)
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o444)
    return Toolchain(venv=venv, cache=cache, cassandra_home=home, settings=layout.settings,
                     templates=_templates(layout))


def current(layout: Layout) -> Toolchain:
    """The toolchain `ensure` made, without re-checking it (for commands after `up`)."""
    return Toolchain(venv=layout.toolchain / "venv", cache=layout.toolchain / "cache",
                     cassandra_home=layout.settings.cassandra_home, settings=layout.settings,
                     templates=_templates(layout))


def _templates(layout: Layout) -> Path | None:
    """Where seats find their cluster template, unless the server runs with templates off."""
    return layout.templates if layout.settings.template else None
