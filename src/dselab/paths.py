"""Where dselab keeps things: the state home (clusters, progress) and the download cache.

Both live outside the repository. `DSELAB_HOME` and `DSELAB_CACHE` move them (dselab.settings),
which is how the tests keep a developer's own lab cluster untouched. Where dselab's own content
(labs, site, scripts) is found: dselab.resources.
"""

from __future__ import annotations

from pathlib import Path

from dselab.settings import Settings, resolve


def home(settings: Settings | None = None) -> Path:
    return resolve(settings).home


def cache(settings: Settings | None = None) -> Path:
    return resolve(settings).cache

WEB_PORT = 8055  # where `dselab serve` listens unless --port says otherwise
