"""Where dselab's content is: labs/, checks/, site/, scripts/ and docker-compose.yml.

The content lives at the top of the repository and the wheel carries it as the package data
`dselab/content/` (pyproject.toml, [tool.setuptools]). Found, in this order:

1. `DSELAB_CONTENT`: a folder laid out like the repository (labs/, checks/, site/, scripts/);
   the override for running from a source tree that is not installed.
2. The installed package's own `dselab/content/` (a wheel, `pipx install`).
3. An editable install (`pip install -e`, what `make setup` does): the source tree pip recorded
   in the distribution's direct_url.json (PEP 610).

Extra lab roots (folders with labs/ and checks/, see docs/writing-a-lab.md) come from
`DSELAB_LABS`, an os.pathsep-separated list; the content folder is always the first root.
"""

from __future__ import annotations

import json
import os
from importlib import metadata, resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from dselab.errors import EnvironmentProblem

DIST = "dselab"


def _editable_source() -> Path | None:
    """The source tree of an editable install, as pip recorded it, or None."""
    try:
        recorded = metadata.distribution(DIST).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not recorded:
        return None
    try:
        info = json.loads(recorded)
    except ValueError:
        return None
    url = urlparse(str(info.get("url", "")))
    if not (info.get("dir_info") or {}).get("editable") or url.scheme != "file":
        return None
    return Path(unquote(url.path))


def content_root() -> Path:
    """The folder holding labs/, checks/, site/, scripts/ and docker-compose.yml."""
    override = os.environ.get("DSELAB_CONTENT")
    if override:
        root = Path(override)
        if not (root / "labs").is_dir():
            raise EnvironmentProblem(f"DSELAB_CONTENT={override} has no labs/ folder",
                                     fix="point it at a dselab source tree, or unset it")
        return root
    packaged = Path(str(resources.files("dselab"))) / "content"
    if (packaged / "labs").is_dir():
        return packaged
    source = _editable_source()
    if source is not None and (source / "labs").is_dir():
        return source
    raise EnvironmentProblem("this dselab installation has no labs, site or scripts (dselab/content is missing)",
                             fix="reinstall dselab from its wheel, or set DSELAB_CONTENT to a dselab source tree")


def site_dir() -> Path:
    return content_root() / "site"


def scripts_dir() -> Path:
    return content_root() / "scripts"


def compose_file() -> Path:
    return Path(os.environ.get("DSELAB_COMPOSE_FILE", content_root() / "docker-compose.yml"))


def lab_roots() -> tuple[Path, ...]:
    """The shipped content first, then every root named in DSELAB_LABS (duplicates dropped)."""
    roots = [content_root()]
    for entry in os.environ.get("DSELAB_LABS", "").split(os.pathsep):
        if entry.strip():
            roots.append(Path(entry.strip()))
    unique: dict[Path, Path] = {}
    for root in roots:
        unique.setdefault(root.resolve(), root)
    return tuple(unique.values())
