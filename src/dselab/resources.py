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
from importlib import metadata, resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from dselab.errors import EnvironmentProblem
from dselab.settings import CONTENT, Settings, resolve

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


def content_root(settings: Settings | None = None) -> Path:
    """The folder holding labs/, checks/, site/, scripts/ and docker-compose.yml."""
    root = resolve(settings).content
    if root is not None:
        if not (root / "labs").is_dir():
            raise EnvironmentProblem(f"{CONTENT}={root} has no labs/ folder",
                                     fix="point it at a dselab source tree, or unset it")
        return root
    packaged = Path(str(resources.files("dselab"))) / "content"
    if (packaged / "labs").is_dir():
        return packaged
    source = _editable_source()
    if source is not None and (source / "labs").is_dir():
        return source
    raise EnvironmentProblem("this dselab installation has no labs, site or scripts (dselab/content is missing)",
                             fix=f"reinstall dselab from its wheel, or set {CONTENT} to a dselab source tree")


def site_dir(settings: Settings | None = None) -> Path:
    return content_root(settings) / "site"


def scripts_dir(settings: Settings | None = None) -> Path:
    return content_root(settings) / "scripts"


def compose_file(settings: Settings | None = None) -> Path:
    settings = resolve(settings)
    return settings.compose_file or content_root(settings) / "docker-compose.yml"


def lab_roots(settings: Settings | None = None) -> tuple[Path, ...]:
    """The shipped content first, then every root named in DSELAB_LABS (duplicates dropped)."""
    settings = resolve(settings)
    roots = [content_root(settings), *settings.labs]
    unique: dict[Path, Path] = {}
    for root in roots:
        unique.setdefault(root.resolve(), root)
    return tuple(unique.values())


# The page terminal's front end, vendored by `make frontend` (npm) and carried by the wheel.
XTERM_FILES = ("vendor/xterm/xterm.js", "vendor/xterm/xterm.css", "vendor/xterm/addon-fit.js")


def missing_frontend(settings: Settings | None = None) -> list[Path]:
    """The vendored xterm.js files the classroom's seat pages load that are not there."""
    static = site_dir(settings) / "static"
    return [static / name for name in XTERM_FILES if not (static / name).is_file()]


def require_frontend(settings: Settings | None = None) -> None:
    """Refuse to serve seat pages whose terminal would not load (one line, the fix)."""
    missing = missing_frontend(settings)
    if missing:
        raise EnvironmentProblem(f"the page terminal's front end is missing: {', '.join(map(str, missing))}",
                                 fix="run `make frontend` in the source tree, or install dselab from its wheel")
