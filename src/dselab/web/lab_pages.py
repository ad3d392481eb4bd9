"""The lab pages and their JSON API, written once for every front end (`dselab serve`, a classroom
seat): a Flask blueprint over a LabSession.

    <prefix>/                                     every lab (when the front end lists them)
    <prefix>/labs/<lab>/                          a lab's overview
    <prefix>/labs/<lab>/<step>                    a step page with Check, answer, status, progress
    <prefix>/api/labs/<lab>/steps/<step>/check    run and record the step's check
    <prefix>/api/labs/<lab>/steps/<step>/answer   keep an answer, then check it
    <prefix>/api/labs/<lab>/progress              progress in this lab run
    <prefix>/api/status                           the cluster, node by node

The URL prefix may hold variables (the classroom's `/seat/<seat_id>`): they reach the front end's
`Front.session` as the page's scope, and its `Front.links` build the page's links. A front end that
frames the pages (the classroom puts a terminal beside them) gets a fresh style nonce per page.
Mounted inside a guarded blueprint, the guard's before_request runs first (the classroom's seat cookie).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, request

from dselab import render
from dselab.errors import DselabError, UsageError
from dselab.lab import Lab
from dselab.lab_session import LabNotFound, LabSession, error_result, find
from dselab.outcomes import CheckStatus
from dselab.web.headers import policy_with_style_nonce

log = logging.getLogger(__name__)
Scope = Mapping[str, str]


@dataclass(frozen=True)
class Front:
    """How one front end serves the pages: the session for a request's scope, the pages' links, and
    optionally a frame around each page (its `layout` template and that template's variables; the
    frame is given the page's style nonce)."""

    session: Callable[[Scope], LabSession]
    links: Callable[[Scope], render.Links] = lambda scope: render.LIVE_LINKS
    frame: Callable[[Scope, str], dict[str, Any]] | None = None
    index: bool = True  # serve the list of labs at the prefix's root


def _answer_value() -> str:
    data = request.get_json(silent=True)  # the guards already refused anything but JSON
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise UsageError('send an answer as JSON: {"value": "..."}')
    return value


def _progress_by_step(session: LabSession, lab: Lab) -> dict[str, Any]:
    """For page rendering: progress keyed by step id, or nothing when the records cannot be read."""
    try:
        return {e["id"]: e for e in session.progress(lab)["steps"]}
    except DselabError as err:
        log.warning("no progress for %s: %s", lab.id, err.one_line())
        return {}


def lab_blueprint(front: Front, name: str = "lab", url_prefix: str = "") -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=url_prefix or None)

    def page(scope: Scope, render_page: Callable[..., str]) -> Response | str:
        if front.frame is None:
            return render_page(links=front.links(scope))
        nonce = secrets.token_urlsafe(16)
        response = make_response(render_page(links=front.links(scope), frame=front.frame(scope, nonce)))
        response.headers["Content-Security-Policy"] = policy_with_style_nonce(nonce)
        response.headers["Cache-Control"] = "no-store"
        return response

    if front.index:
        @bp.get("/")
        def index(**scope: str) -> str:
            session = front.session(scope)
            return render.render_index_html(session.labs(), session.variables(), True, links=front.links(scope))

    @bp.get("/labs/<lab_ref>/")
    @bp.get("/labs/<lab_ref>")
    def lab_page(lab_ref: str, **scope: str) -> Response | str:
        session = front.session(scope)
        lab, _ = find(session.labs(), lab_ref)
        return page(scope, lambda **kw: render.render_lab_html(
            lab, session.variables(), live=True, labs=session.labs(), progress=_progress_by_step(session, lab), **kw))

    @bp.get("/labs/<lab_ref>/<step_ref>")
    def step_page(lab_ref: str, step_ref: str, **scope: str) -> Response | str:
        session = front.session(scope)
        lab, step = find(session.labs(), lab_ref, step_ref)
        assert step is not None
        return page(scope, lambda **kw: render.render_step_html(
            lab, step, session.variables(), live=True, labs=session.labs(),
            progress=_progress_by_step(session, lab), **kw))

    @bp.post("/api/labs/<lab_ref>/steps/<step_ref>/check")
    def check(lab_ref: str, step_ref: str, **scope: str) -> Response:
        session = front.session(scope)
        lab, step = find(session.labs(), lab_ref, step_ref)
        assert step is not None
        return jsonify(session.check(lab, step))

    @bp.post("/api/labs/<lab_ref>/steps/<step_ref>/answer")
    def answer(lab_ref: str, step_ref: str, **scope: str) -> tuple[Response, int] | Response:
        session = front.session(scope)
        lab, step = find(session.labs(), lab_ref, step_ref)
        assert step is not None
        try:
            return jsonify(session.answer(lab, step, _answer_value()))
        except UsageError as err:
            return jsonify(error_result(lab, step, err.message, err.fix or "")), 400

    @bp.get("/api/labs/<lab_ref>/progress")
    def progress(lab_ref: str, **scope: str) -> tuple[Response, int] | Response:
        session = front.session(scope)
        lab, _ = find(session.labs(), lab_ref)
        try:
            return jsonify(session.progress(lab))
        except DselabError as err:
            return jsonify({"lab": lab.id, "status": CheckStatus.ERROR, "message": err.one_line()}), 503

    @bp.get("/api/status")
    def status(**scope: str) -> Response:
        return jsonify(front.session(scope).health())

    @bp.errorhandler(LabNotFound)
    def not_found(err: LabNotFound) -> tuple[Response | str, int]:
        if "/api/" in request.path:
            return jsonify({"status": CheckStatus.ERROR, "message": err.message}), 404
        scope = request.view_args or {}
        session = front.session(scope)
        return render.render_not_found_html(err.message, session.labs(), session.variables(), lab=err.lab,
                                            links=front.links(scope)), 404

    return bp
