"""The web lab of `dselab serve`: the lab pages (web.lab_pages) over the student's own cluster
(web.local_session), plus the app's error pages.

Why Flask: it is small and well kept, and its plain synchronous request model fits checks that
shell out to nodetool and take seconds; nothing here needs async. The app owns no logic of its
own. Every error reaches the browser as a message, never as a traceback. `security.protect` guards
it: served Host names only, checks and answers as same-origin JSON only, security headers (CSP
without inline script or style) on every response.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from flask import Flask, Response, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from dselab import resources
from dselab.catalogue import load_all
from dselab.errors import DselabError
from dselab.lab import Lab
from dselab.outcomes import CheckStatus
from dselab.web.hosts import LOOPBACK_NAMES
from dselab.web.lab_pages import Front, lab_blueprint
from dselab.web.local_session import LabsSource, LocalSession, WorkspaceFactory
from dselab.web.security import protect

log = logging.getLogger(__name__)
ERROR = CheckStatus.ERROR


def create_app(workspace_factory: WorkspaceFactory, labs: LabsSource | Sequence[Lab] | None = None,
               allowed_hosts: Iterable[str] = LOOPBACK_NAMES) -> Flask:
    """The web lab. `workspace_factory` is called once, on first use; `labs` defaults to labs/;
    requests must name one of `allowed_hosts` (web.hosts.served_names) in their Host header.
    The session is app.extensions["dselab"]; its owner closes it."""
    source: LabsSource = labs if callable(labs) else (lambda: tuple(labs)) if labs is not None else load_all
    app = Flask(__name__, static_folder=str(resources.site_dir() / "static"), static_url_path="/static")
    protect(app, allowed_hosts)
    session = LocalSession(workspace_factory, source)
    app.extensions["dselab"] = session
    app.register_blueprint(lab_blueprint(Front(session=lambda scope: session)))
    _errors(app)
    return app


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _errors(app: Flask) -> None:
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
