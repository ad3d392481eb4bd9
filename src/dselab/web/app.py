"""The web lab: step pages with a Check button, answers, the cluster's status and progress.

Why Flask: it is small and well kept, and its plain synchronous request model fits checks that
shell out to nodetool and take seconds; nothing here needs async. The app owns no logic of its
own: pages come from dselab.render, checks and answers from dselab.service, progress from the
state store (so it survives restarts). Every error reaches the browser as a message, never as a
traceback. `security.protect` guards it: served Host names only, checks and answers as same-origin
JSON only, security headers (CSP without inline script or style) on every response.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import Flask, Response, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from dselab import render, resources, service
from dselab.catalogue import load_all
from dselab.check_engine import ERROR
from dselab.errors import ClusterDown, DselabError, UsageError
from dselab.lab import Lab, Step
from dselab.service import Workspace
from dselab.state import StateStore
from dselab.web.hosts import LOOPBACK_NAMES
from dselab.web.security import protect

DOWN_MESSAGE = "The lab cluster is down. Start it with ./scripts/up-cluster.sh (or dselab up)."
STATUS_TTL_S = 5.0  # `nodetool status` starts a JVM; several tabs share one answer
log = logging.getLogger(__name__)

WorkspaceFactory = Callable[[], Workspace]
LabsSource = Callable[[], Sequence[Lab]]


class LabNotFound(UsageError):
    """An unknown lab or step id in a URL; carries the lab when only the step was wrong."""

    def __init__(self, message: str, lab: Lab | None = None) -> None:
        super().__init__(message)
        self.lab = lab


class WebState:
    """The one workspace the app shares (opened on first use), its template variables, a check lock."""

    def __init__(self, factory: WorkspaceFactory, labs: LabsSource) -> None:
        self.factory = factory
        self.labs = labs
        self.check_lock = threading.Lock()  # one check at a time against one cluster
        self._open_lock = threading.Lock()
        self._ws: Workspace | None = None
        self._vars: dict[str, Any] | None = None
        self._status: tuple[float, dict[str, Any]] | None = None

    def workspace(self) -> Workspace:
        with self._open_lock:
            if self._ws is None:
                self._ws = self.factory()
            return self._ws

    def variables(self) -> dict[str, Any]:
        """The running version's variables; the offline default until the runtime can say."""
        if self._vars is None:
            try:
                self._vars = service.template_vars(self.workspace())
            except DselabError as err:
                log.warning("template variables fall back to %s: %s", render.OFFLINE_VARS, err.one_line())
                return render.OFFLINE_VARS
        return self._vars

    def find(self, lab_ref: str, step_ref: str | None = None) -> tuple[Lab, Step | None]:
        labs = self.labs()
        try:
            lab = render.find_lab(labs, lab_ref)
        except UsageError as err:
            raise LabNotFound(err.message) from None
        if step_ref is None:
            return lab, None
        try:
            return lab, lab.step(step_ref)
        except UsageError as err:
            raise LabNotFound(err.message, lab) from None

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._status and now - self._status[0] < STATUS_TTL_S:
            return self._status[1]
        answer = cluster_status(self)
        self._status = (now, answer)
        return answer

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None


# -- plain functions behind the routes ----------------------------------------------------------


def cluster_status(state: WebState) -> dict[str, Any]:
    try:
        nodes = state.workspace().runtime.status()
    except ClusterDown:
        return {"up": False, "message": DOWN_MESSAGE, "nodes": []}
    except DselabError as err:
        return {"up": False, "message": err.one_line(), "nodes": []}
    shown = [{"name": n.name, "address": n.address, "state": n.state} for n in nodes]
    if not any(n.state == "UN" for n in nodes):
        return {"up": False, "message": DOWN_MESSAGE, "nodes": shown}
    down = [n.name for n in nodes if n.state != "UN"]
    note = f"Not up: {', '.join(down)}." if down else ""
    return {"up": True, "message": note, "nodes": shown}


def lab_progress(store: StateStore, lab: Lab) -> dict[str, Any]:
    """Per step: passed at least once since the lab started, and the last check's outcome."""
    steps = {s.id: {"id": s.id, "number": s.number, "title": s.title, "passed": False, "last": None}
             for s in lab.steps}
    for attempt in store.attempts(lab.id):
        entry = steps.get(attempt["step"])
        if entry is None:
            continue
        entry["last"] = {k: attempt[k] for k in ("status", "message", "at", "source")}
        entry["passed"] = entry["passed"] or attempt["status"] == "pass"
    passed = sum(1 for e in steps.values() if e["passed"])
    return {"lab": lab.id, "passed": passed, "total": len(steps), "steps": list(steps.values())}


def _progress_by_step(state: WebState, lab: Lab) -> dict[str, Any]:
    """For page rendering: progress keyed by step id, or nothing when the store cannot be opened."""
    try:
        return {e["id"]: e for e in lab_progress(state.workspace().store, lab)["steps"]}
    except DselabError as err:
        log.warning("no progress for %s: %s", lab.id, err.one_line())
        return {}


def _error_result(lab: Lab, step: Step, message: str, hint: str = "") -> dict[str, Any]:
    return {"lab": lab.id, "id": step.id, "number": step.number, "title": step.title,
            "status": ERROR, "message": message, "hint": hint, "seconds": 0.0}


def _run_check(state: WebState, lab: Lab, step: Step) -> dict[str, Any]:
    try:
        with state.check_lock:
            return service.check_one(state.workspace(), lab, step, source="web").to_dict()
    except DselabError as err:
        return _error_result(lab, step, err.message, err.fix or "")


def _answer_value() -> str:
    data = request.get_json(silent=True)  # the guards already refused anything but JSON
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise UsageError('send an answer as JSON: {"value": "..."}')
    return value


# -- the app ------------------------------------------------------------------------------------


def create_app(workspace_factory: WorkspaceFactory, labs: LabsSource | Sequence[Lab] | None = None,
               allowed_hosts: Iterable[str] = LOOPBACK_NAMES) -> Flask:
    """The web lab. `workspace_factory` is called once, on first use; `labs` defaults to labs/;
    requests must name one of `allowed_hosts` (web.hosts.served_names) in their Host header."""
    source: LabsSource = labs if callable(labs) else (lambda: tuple(labs)) if labs is not None else load_all
    app = Flask(__name__, static_folder=str(resources.site_dir() / "static"), static_url_path="/static")
    protect(app, allowed_hosts)
    state = WebState(workspace_factory, source)
    app.extensions["dselab"] = state
    _pages(app, state)
    _api(app, state)
    _errors(app, state)
    return app


def _pages(app: Flask, state: WebState) -> None:
    @app.get("/")
    def index() -> str:
        return render.render_index_html(state.labs(), state.variables(), True)

    @app.get("/labs/<lab_ref>/")
    @app.get("/labs/<lab_ref>")
    def lab_page(lab_ref: str) -> str:
        lab, _ = state.find(lab_ref)
        return render.render_lab_html(lab, state.variables(), live=True, labs=state.labs(),
                                      progress=_progress_by_step(state, lab))

    @app.get("/labs/<lab_ref>/<step_ref>")
    def step_page(lab_ref: str, step_ref: str) -> str:
        lab, step = state.find(lab_ref, step_ref)
        assert step is not None
        return render.render_step_html(lab, step, state.variables(), live=True, labs=state.labs(),
                                       progress=_progress_by_step(state, lab))


def _api(app: Flask, state: WebState) -> None:
    @app.post("/api/labs/<lab_ref>/steps/<step_ref>/check")
    def check(lab_ref: str, step_ref: str) -> Response:
        lab, step = state.find(lab_ref, step_ref)
        assert step is not None
        return jsonify(_run_check(state, lab, step))

    @app.post("/api/labs/<lab_ref>/steps/<step_ref>/answer")
    def answer(lab_ref: str, step_ref: str) -> tuple[Response, int] | Response:
        lab, step = state.find(lab_ref, step_ref)
        assert step is not None
        try:
            service.record_answer(state.workspace(), lab, step, _answer_value())
        except UsageError as err:
            return jsonify(_error_result(lab, step, err.message, err.fix or "")), 400
        except DselabError as err:
            return jsonify(_error_result(lab, step, err.message, err.fix or ""))
        return jsonify(_run_check(state, lab, step))

    @app.get("/api/status")
    def status() -> Response:
        return jsonify(state.status())

    @app.get("/api/labs/<lab_ref>/progress")
    def progress(lab_ref: str) -> tuple[Response, int] | Response:
        lab, _ = state.find(lab_ref)
        try:
            return jsonify(lab_progress(state.workspace().store, lab))
        except DselabError as err:
            return jsonify({"lab": lab.id, "status": ERROR, "message": err.one_line()}), 503


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _errors(app: Flask, state: WebState) -> None:
    @app.errorhandler(LabNotFound)
    def not_found(err: LabNotFound) -> tuple[Response | str, int]:
        if _wants_json():
            return jsonify({"status": ERROR, "message": err.message}), 404
        return render.render_not_found_html(err.message, state.labs(), state.variables(), lab=err.lab), 404

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[Response | str, int]:
        code = err.code or 500
        if _wants_json():
            detail = f": {err.description}" if err.description else ""
            return jsonify({"status": ERROR, "message": f"{code} {err.name}{detail}"}), code
        return _plain_page(f"{code} {err.name}", err.description or ""), code

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> tuple[Response | str, int]:
        # DselabErrors are the user's to fix (e.g. broken lab content); anything else is a bug.
        if isinstance(err, DselabError):
            message, code = err.one_line(), 500
        else:
            log.exception("unexpected error on %s", request.path)
            message = f"Unexpected error ({type(err).__name__}); the details are in the server log."
            code = 500
        if _wants_json():
            return jsonify({"status": ERROR, "message": message}), code
        return _plain_page("Something went wrong", message), code


def _plain_page(title: str, message: str) -> str:
    """An error page that needs no template (the templates themselves may be what failed)."""
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<link rel=\"stylesheet\" href=\"/static/lab.css\"></head><body><div class=\"page\">"
            f"<main class=\"wide\"><h1>{escape(title)}</h1><p class=\"error-message\">{escape(message)}</p>"
            f"<p><a href=\"/\">All labs</a></p></main></div></body></html>")
