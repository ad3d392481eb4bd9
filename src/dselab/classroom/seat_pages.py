"""A seat's lab pages in the classroom server: the same step pages as `dselab serve` (render.py,
lab.js), framed beside the seat's terminal, with Check and answers run on the server.

Every route hangs under /seat/<seat_id>/, so the seat blueprint's guard (the cookie's seat must be the
URL's seat) covers all of them; POSTs are same-origin JSON only (web.guards, installed by protect).

    /seat/<id>/labs/<lab>/                       the lab's overview
    /seat/<id>/labs/<lab>/<step>                 a step page beside the terminal
    /seat/<id>/api/labs/<lab>/steps/<step>/check run and record the step's check
    /seat/<id>/api/labs/<lab>/steps/<step>/answer record an answer, then check it
    /seat/<id>/api/labs/<lab>/progress           the seat's progress
    /seat/<id>/api/status                        the seat's cluster, node by node
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, request
from werkzeug.exceptions import NotFound

from dselab import render
from dselab.classroom.work import ClassroomWork, error_result
from dselab.errors import DselabError, UsageError
from dselab.lab import Lab, Step
from dselab.web.headers import CONTENT_SECURITY_POLICY


@dataclass(frozen=True)
class SeatLinks(render.Links):
    """Page links inside one seat (/seat/<id>/...); static files stay at the server's /static/."""

    def static(self, name: str) -> str:
        return f"/static/{name}"


def seat_links(seat_id: str) -> SeatLinks:
    return SeatLinks(root=f"{request.script_root}/seat/{seat_id}/")


def policy_with_style_nonce(nonce: str) -> str:
    """The server's policy, plus style elements carrying this page's nonce: xterm.js builds its
    colour and size rules as <style> elements, which the page script stamps with the nonce."""
    return CONTENT_SECURITY_POLICY.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")


def page_response(html: str, nonce: str) -> Response:
    response = make_response(html)
    response.headers["Content-Security-Policy"] = policy_with_style_nonce(nonce)
    response.headers["Cache-Control"] = "no-store"
    return response


def _find(work: ClassroomWork, lab_ref: str, step_ref: str | None = None) -> tuple[Lab, Step | None]:
    try:
        lab = render.find_lab([work.lab], lab_ref)
    except UsageError:
        raise NotFound(f"this classroom runs lab {work.lab.id} only") from None
    if step_ref is None:
        return lab, None
    try:
        return lab, lab.step(step_ref)
    except UsageError as err:
        raise NotFound(err.message) from None


def _answer_value() -> str:
    data = request.get_json(silent=True)
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise UsageError('send an answer as JSON: {"value": "..."}')
    return value


def add_lab_routes(bp: Blueprint, work: ClassroomWork) -> None:
    """The lab routes of the seat blueprint (whose before_request already checked the seat's cookie)."""

    def frame(seat_id: str, nonce: str) -> dict[str, Any]:
        return {"layout": "classroom/seat_lab.html", "seat_id": seat_id, "nonce": nonce,
                "terminal_path": f"{request.script_root}/seat/{seat_id}/terminal"}

    def progress_by_step(seat_id: str, lab: Lab) -> dict[str, Any]:
        try:
            return {e["id"]: e for e in work.progress(seat_id, lab)["steps"]}
        except DselabError:
            return {}

    @bp.get("/<seat_id>/labs/<lab_ref>/")
    def lab_page(seat_id: str, lab_ref: str) -> Response:
        lab, _ = _find(work, lab_ref)
        nonce = secrets.token_urlsafe(16)
        return page_response(render.render_lab_html(lab, work.variables(), live=True, links=seat_links(seat_id),
                                                    progress=progress_by_step(seat_id, lab),
                                                    frame=frame(seat_id, nonce)), nonce)

    @bp.get("/<seat_id>/labs/<lab_ref>/<step_ref>")
    def step_page(seat_id: str, lab_ref: str, step_ref: str) -> Response:
        lab, step = _find(work, lab_ref, step_ref)
        assert step is not None
        nonce = secrets.token_urlsafe(16)
        return page_response(render.render_step_html(lab, step, work.variables(), live=True,
                                                     links=seat_links(seat_id),
                                                     progress=progress_by_step(seat_id, lab),
                                                     frame=frame(seat_id, nonce)), nonce)

    @bp.post("/<seat_id>/api/labs/<lab_ref>/steps/<step_ref>/check")
    def check(seat_id: str, lab_ref: str, step_ref: str) -> Response:
        lab, step = _find(work, lab_ref, step_ref)
        assert step is not None
        return jsonify(work.check(seat_id, lab, step))

    @bp.post("/<seat_id>/api/labs/<lab_ref>/steps/<step_ref>/answer")
    def answer(seat_id: str, lab_ref: str, step_ref: str) -> tuple[Response, int] | Response:
        lab, step = _find(work, lab_ref, step_ref)
        assert step is not None
        try:
            return jsonify(work.answer(seat_id, lab, step, _answer_value()))
        except UsageError as err:
            return jsonify(error_result(lab, step, err.message, err.fix or "")), 400

    @bp.get("/<seat_id>/api/labs/<lab_ref>/progress")
    def progress(seat_id: str, lab_ref: str) -> tuple[Response, int] | Response:
        lab, _ = _find(work, lab_ref)
        try:
            return jsonify(work.progress(seat_id, lab))
        except DselabError as err:
            return jsonify({"lab": lab.id, "status": "error", "message": err.one_line()}), 503

    @bp.get("/<seat_id>/api/status")
    def status(seat_id: str) -> Response:
        try:
            return jsonify(work.seat_health(seat_id))
        except DselabError as err:
            return jsonify({"up": False, "message": err.one_line(), "nodes": []})
