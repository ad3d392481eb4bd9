"""The instructor's grid routes (under /instructor, whose guard already asked for the instructor cookie).

    /instructor/api/grid                           students by steps, cluster health (polled by the page)
    /instructor/api/seats/<id>/steps/<step>        a student's evidence for one step (its last attempts, each
                                                   also as grading.evidence_view blocks)
    /instructor/api/seats/<id>/reset               POST {"confirm": "<id>"}: a fresh seat (same-origin JSON)
    /instructor/export/gradebook.csv|.html         the gradebook from the server's records
    /instructor/export/reports.zip                 the signed reports (`dselab gradebook --key-file`)
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest, NotFound

from dselab.classroom.web.work import ClassroomWork
from dselab.errors import DselabError, UsageError
from dselab.grading import evidence_view

EXPORTS = {"gradebook.csv": ("csv", "text/csv"), "gradebook.html": ("html", "text/html"),
           "reports.zip": ("zip", "application/zip")}


def add_grid_routes(bp: Blueprint, work: ClassroomWork) -> None:
    def known_seat(seat_id: str) -> None:
        if seat_id not in work.seats():
            raise NotFound(f"no seat {seat_id!r}")

    @bp.get("/api/grid")
    def grid() -> Response:
        return jsonify(work.grid())

    @bp.get("/api/seats/<seat_id>/steps/<step_ref>")
    def evidence(seat_id: str, step_ref: str) -> Response:
        known_seat(seat_id)
        try:
            step = work.lab.step(step_ref)
        except UsageError as err:
            raise NotFound(err.message) from None
        attempts = [{**a, "blocks": evidence_view.blocks(a["evidence"])} for a in work.evidence(seat_id, step)]
        return jsonify({"seat": seat_id, "step": step.id, "number": step.number, "title": step.title,
                        "attempts": attempts})

    @bp.post("/api/seats/<seat_id>/reset")
    def reset(seat_id: str) -> tuple[Response, int]:
        known_seat(seat_id)
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or data.get("confirm") != seat_id:
            raise BadRequest(f'confirm the reset: send {{"confirm": "{seat_id}"}}')
        try:
            work.start_reset(seat_id)
        except UsageError as err:
            raise BadRequest(err.message) from None
        return jsonify({"seat": seat_id, "reset": "resetting"}), 202

    @bp.get("/export/<name>")
    def export(name: str) -> Response:
        if name not in EXPORTS:
            raise NotFound("exports: " + ", ".join(EXPORTS))
        kind, mimetype = EXPORTS[name]
        try:
            body = work.export(kind)
        except DselabError as err:
            raise BadRequest(err.one_line()) from None
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{work.lab.id}-{name}"'
        response.headers["Cache-Control"] = "no-store"
        return response
