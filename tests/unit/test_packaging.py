"""pyproject.toml ships every engine package and the content folders (labs, checks, site, scripts)."""

from __future__ import annotations

import tomllib
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_engine_package_is_listed() -> None:
    """The list is explicit (the content needs a package-dir mapping), so a new subpackage must join it."""
    engine = {".".join(p.parent.relative_to(CHECKOUT / "src").parts) for p in (CHECKOUT / "src").rglob("__init__.py")}
    listed = set(SETUPTOOLS["packages"])
    assert engine - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_content_folders_travel_as_dselab_content() -> None:
    assert SETUPTOOLS["package-dir"]["dselab.content"] == "."
    data = SETUPTOOLS["package-data"]["dselab.content"]
    assert {"labs/**/*", "checks/*.py", "site/**/*", "scripts/*.sh", "docker-compose.yml"} <= set(data)
    listed = set(SETUPTOOLS["packages"])
    for folder in ("checks", "labs", "scripts", "site"):
        assert (CHECKOUT / folder).is_dir() and f"dselab.content.{folder}" in listed
    vendored = CHECKOUT / "site" / "static" / "vendor"  # made by `make frontend`: may be absent, so not listed
    for sub in (p for p in (CHECKOUT / "site").rglob("*") if p.is_dir() and not p.is_relative_to(vendored)):
        name = "dselab.content." + ".".join(sub.relative_to(CHECKOUT).parts)
        assert name in listed, f"list {name} in pyproject.toml (setuptools warns about unlisted data folders)"


def test_the_warm_nodetool_source_travels_with_the_runtime() -> None:
    """runtime/nodetool_server.py compiles java/NodetoolServer.java on first use: it must be in the wheel
    (the folder is a package of its own, so that setuptools does not warn about it)."""
    assert "dselab.runtime.java" in SETUPTOOLS["packages"]
    assert "*.java" in SETUPTOOLS["package-data"]["dselab.runtime.java"]
    assert (CHECKOUT / "src" / "dselab" / "runtime" / "java" / "NodetoolServer.java").is_file()
