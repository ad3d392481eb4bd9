"""The lab session of `dselab serve`: the student's own cluster and state store (one workspace,
opened on first use), one check at a time, the cluster's status shared by every open tab."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from dselab import render, service
from dselab.cached import Cached
from dselab.errors import ClusterDown, DselabError
from dselab.lab import Lab, Step
from dselab.lab_session import DOWN_MESSAGE, answered_then_checked, down_box, error_result, health_box, lab_progress
from dselab.service import Workspace

STATUS_TTL_S = 5.0  # `nodetool status` starts a JVM; several tabs share one answer
log = logging.getLogger(__name__)

WorkspaceFactory = Callable[[], Workspace]
LabsSource = Callable[[], Sequence[Lab]]


class LocalSession:
    """A LabSession over one workspace (runtime + store) that `factory` opens on first use."""

    def __init__(self, factory: WorkspaceFactory, labs: LabsSource) -> None:
        self.factory = factory
        self._labs = labs
        self.check_lock = threading.Lock()  # one check at a time against one cluster
        self._open_lock = threading.Lock()
        self._ws: Workspace | None = None
        self._vars: dict[str, Any] | None = None
        self._status = Cached(self._cluster_status, STATUS_TTL_S)

    def workspace(self) -> Workspace:
        with self._open_lock:
            if self._ws is None:
                self._ws = self.factory()
            return self._ws

    def labs(self) -> Sequence[Lab]:
        return self._labs()

    def variables(self) -> dict[str, Any]:
        """The running version's variables; the offline default until the runtime can say."""
        if self._vars is None:
            try:
                self._vars = service.template_vars(self.workspace())
            except DselabError as err:
                log.warning("template variables fall back to %s: %s", render.OFFLINE_VARS, err.one_line())
                return render.OFFLINE_VARS
        return self._vars

    def check(self, lab: Lab, step: Step) -> dict[str, Any]:
        try:
            with self.check_lock:
                return service.check_one(self.workspace(), lab, step, source="web").to_dict()
        except DselabError as err:
            return error_result(lab, step, err.message, err.fix or "")

    def answer(self, lab: Lab, step: Step, value: str) -> dict[str, Any]:
        return answered_then_checked(self, lab, step, lambda: service.record_answer(self.workspace(), lab, step, value))

    def progress(self, lab: Lab) -> dict[str, Any]:
        return lab_progress(self.workspace().store, lab)

    def health(self) -> dict[str, Any]:
        return self._status.get()

    def _cluster_status(self) -> dict[str, Any]:
        try:
            nodes = self.workspace().runtime.status()
        except ClusterDown:
            return down_box(DOWN_MESSAGE)
        except DselabError as err:
            return down_box(err.one_line())
        return health_box((n.name, n.address, n.state) for n in nodes)

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None
