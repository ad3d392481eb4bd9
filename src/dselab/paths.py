"""Where dselab keeps things: the state home (clusters, progress) and the download cache.

Both live outside the repository. `DSELAB_HOME` and `DSELAB_CACHE` move them, which is how the
tests keep a developer's own lab cluster untouched. Where dselab's own content (labs, site,
scripts) is found: dselab.resources.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    default = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "dselab"
    return Path(os.environ.get("DSELAB_HOME", default))


def cache() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dselab"
    return Path(os.environ.get("DSELAB_CACHE", default))

WEB_PORT = 8055  # where `dselab serve` listens unless --port says otherwise
