"""Request guards for a lab server: served host names only, and state changes only as same-origin JSON.

Any Flask app installs them with `install_guards(app, names)`; each check is also a plain function
(e.g. for a websocket upgrade, which is a GET). A refusal is a werkzeug HTTP error with a one-line
description, so the app's own error handlers show it.

Why JSON only: a cross-site HTML form can POST form-encoded or text/plain bodies without the
browser asking first, but a cross-site `application/json` POST needs a CORS preflight, which this
server never grants. Origin and Sec-Fetch-Site refuse the rest (and requests from old browsers
that send neither still need the JSON content type).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request
from werkzeug.exceptions import BadRequest, Forbidden, UnsupportedMediaType

from dselab.web.hosts import host_name, normalize

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})  # "none": the user typed the URL
DEFAULT_PORTS = {"http": "80", "https": "443"}


def refuse_foreign_host(allowed: frozenset[str]) -> None:
    """400 unless the Host header names one of `allowed` (normalized names, any port)."""
    name = host_name(request.host)
    if name not in allowed:
        raise BadRequest(f"host {name or request.host!r} is not served here "
                         "(dselab serve --allow-host NAME adds a name)")


def _origin(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    port = DEFAULT_PORTS.get(scheme)
    if port and netloc.endswith(f":{port}"):
        netloc = netloc[: -len(port) - 1]
    return f"{scheme}://{netloc}"


def served_origin() -> str:
    """The origin the page was loaded from: this request's scheme and Host."""
    return _origin(request.scheme, request.host)


def refuse_cross_site() -> None:
    """403 when the browser says the request comes from another site or origin."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if fetch_site and fetch_site not in SAME_ORIGIN_FETCH:
        raise Forbidden(f"request from another site refused (Sec-Fetch-Site: {fetch_site})")
    origin = request.headers.get("Origin")
    if origin is None:
        return
    scheme, sep, netloc = origin.strip().partition("://")
    if not sep or _origin(scheme.lower(), netloc) != served_origin():
        raise Forbidden(f"request from another origin refused (Origin: {origin})")


def require_json() -> None:
    """415 unless the body is declared as JSON."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send JSON (Content-Type: application/json)")


def install_guards(app: Flask, allowed_hosts: Iterable[str]) -> None:
    """Every request: a served Host. Every state-changing request: same origin, JSON body."""
    allowed = frozenset(normalize(name) for name in allowed_hosts)

    @app.before_request
    def guard() -> None:
        refuse_foreign_host(allowed)
        if request.method not in SAFE_METHODS:
            refuse_cross_site()
            require_json()
