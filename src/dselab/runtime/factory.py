"""Choose the runtime: the local one unless Docker is asked for (argument or DSELAB_RUNTIME).

Docker is never picked just because an engine happens to answer: the labs behave the same on
both, and the local runtime is the one every machine can run.
"""

from __future__ import annotations

from dselab.errors import UsageError
from dselab.progress import Progress
from dselab.runtime.base import Runtime
from dselab.settings import RUNTIME, Settings, resolve

RUNTIMES = ("local", "docker")
DEFAULT = "local"


def runtime_name(name: str | None = None, settings: Settings | None = None) -> str:
    """The runtime asked for: the argument, else DSELAB_RUNTIME (settings.runtime), else "local"."""
    chosen = (name or resolve(settings).runtime or DEFAULT).strip().lower()
    if chosen not in RUNTIMES:
        raise UsageError(f"unknown runtime {chosen!r}; the runtimes are: {', '.join(RUNTIMES)}",
                         fix=f"set {RUNTIME} to local or docker, or leave it unset")
    return chosen


def _make(cluster: str, name: str | None, progress: Progress | None,
          cassandra_home: str | None, settings: Settings | None) -> Runtime:
    settings = resolve(settings)
    if runtime_name(name, settings) == "docker":
        # Imported only here so the local runtime never needs the docker package.
        from dselab.runtime.compose import ComposeRuntime

        runtime = ComposeRuntime(cluster, progress=progress, config=settings)
        _ = runtime.client  # no engine: fail now, with the fix, not halfway through a lab step
        return runtime
    from dselab.runtime.local import LocalRuntime

    return LocalRuntime(cluster, progress=progress, cassandra_home=cassandra_home, config=settings)


def make_runtime(name: str | None = None, progress: Progress | None = None,
                 cassandra_home: str | None = None, settings: Settings | None = None) -> Runtime:
    """The lab cluster's runtime. Docker raises EnvironmentProblem when no engine answers."""
    return _make("lab", name, progress, cassandra_home, settings)


def restore_runtime(name: str | None = None, progress: Progress | None = None,
                    cassandra_home: str | None = None, settings: Settings | None = None) -> Runtime:
    """The separate one-node cluster that sstableloader restores into (dse-restore)."""
    return _make("restore", name, progress, cassandra_home, settings)
