"""Choose the runtime: the local one unless Docker is asked for (argument or DSELAB_RUNTIME).

Docker is never picked just because an engine happens to answer: the labs behave the same on
both, and the local runtime is the one every machine can run.
"""

from __future__ import annotations

import os

from dselab.errors import UsageError
from dselab.progress import Progress
from dselab.runtime.base import Runtime

RUNTIMES = ("local", "docker")
DEFAULT = "local"


def runtime_name(name: str | None = None) -> str:
    """The runtime asked for: the argument, else DSELAB_RUNTIME, else "local"."""
    chosen = (name or os.environ.get("DSELAB_RUNTIME") or DEFAULT).strip().lower()
    if chosen not in RUNTIMES:
        raise UsageError(f"unknown runtime {chosen!r}; the runtimes are: {', '.join(RUNTIMES)}",
                         fix="set DSELAB_RUNTIME to local or docker, or leave it unset")
    return chosen


def _make(cluster: str, name: str | None, progress: Progress | None,
          cassandra_home: str | None) -> Runtime:
    if runtime_name(name) == "docker":
        # Imported only here so the local runtime never needs the docker package.
        from dselab.runtime.compose import ComposeRuntime

        runtime = ComposeRuntime(cluster, progress=progress)
        _ = runtime.client  # no engine: fail now, with the fix, not halfway through a lab step
        return runtime
    from dselab.runtime.local import LocalRuntime

    return LocalRuntime(cluster, progress=progress, cassandra_home=cassandra_home)


def make_runtime(name: str | None = None, progress: Progress | None = None,
                 cassandra_home: str | None = None) -> Runtime:
    """The lab cluster's runtime. Docker raises EnvironmentProblem when no engine answers."""
    return _make("lab", name, progress, cassandra_home)


def restore_runtime(name: str | None = None, progress: Progress | None = None,
                    cassandra_home: str | None = None) -> Runtime:
    """The separate one-node cluster that sstableloader restores into (dse-restore)."""
    return _make("restore", name, progress, cassandra_home)
