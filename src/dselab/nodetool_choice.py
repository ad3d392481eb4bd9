"""Which nodetool the student's scripts run: the DSE 5.1 generation's ("3.11") or the nodes' own ("native").

The module teaches DSE 5.1, whose nodetool is Cassandra 3.11's, while the local nodes run 5.0;
some command forms differ (3.11's `clearsnapshot training` removes every snapshot of the keyspace,
5.0's refuses it without `--all`). The choice, first that applies:

1. DSELAB_NODETOOL (settings.nodetool): "3.11" or "native";
2. the `nodetool:` of the lab started last (`dselab start`; lab.yaml, default "native"), kept in
   the state store;
3. "native".

Checks never use it: they read the cluster through the runtime's own nodetool. Step pages show
the forms of the client chosen here (templating: `nodetool`, `client_legacy`).
"""

from __future__ import annotations

import sqlite3

from dselab.lab import Lab
from dselab.settings import Settings
from dselab.state import StateStore

LEGACY = "3.11"
NATIVE = "native"


# Only the local runtime runs a client of its own choosing; a container runs its image's nodetool
# (a DSE 5.1 image's is 3.11's, the stand-in image's is its Cassandra's), whatever the lab asks.
CHOOSES = ("local",)


def for_lab(settings: Settings, lab: Lab) -> str:
    """The client a run of `lab` uses: the setting, else the lab's own (native off the local runtime)."""
    if settings.runtime not in CHOOSES:
        return NATIVE
    return settings.nodetool or lab.nodetool


def chosen(settings: Settings, store: StateStore | None) -> str:
    """The client the scripts use now: the setting, else what the last `dselab start` recorded
    (native off the local runtime)."""
    if settings.runtime not in CHOOSES:
        return NATIVE
    if settings.nodetool:
        return settings.nodetool
    return (store.student_nodetool() if store is not None else None) or NATIVE


def chosen_here(settings: Settings) -> str:
    """`chosen` with the runtime's store opened here; no store, or one that cannot be read, means
    native (nothing is made where none is)."""
    if settings.runtime not in CHOOSES or settings.nodetool:
        return chosen(settings, None)
    if not StateStore.path_for(settings.runtime, settings).is_file():
        return NATIVE
    try:
        store = StateStore.for_runtime(settings.runtime, settings)
    except (OSError, sqlite3.Error):
        return NATIVE
    try:
        return chosen(settings, store)
    except sqlite3.Error:
        return NATIVE
    finally:
        store.close()
