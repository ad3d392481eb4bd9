"""A classroom server with the lab wired in, over seats faked at the registry level (no users, no
namespaces, no clusters): enough for every door and every page; checks then say the seat is not up."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from dselab.classroom import registry
from dselab.classroom.backend import SeatBackend
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.classroom.web.server import INSTRUCTOR_COOKIE, SEAT_COOKIE, create_classroom_app
from dselab.classroom.web.terminal import ShellSpec
from dselab.classroom.web.work import ClassroomWork

COURSE_KEY = b"test course key 0123456789abcdef"


def registered_layout(root: Path, seat_ids: tuple[str, ...]) -> Layout:
    layout = Layout(root)
    (layout.server / "stores").mkdir(parents=True)
    seats = {seat_id: Seat.planned(layout, seat_id) for seat_id in seat_ids}
    for seat in seats.values():
        seat.store_dir.mkdir(parents=True)
    registry.save(layout, seats)
    return layout


SEATS = ("unit-alice", "unit-bob")  # names no integration seat uses: namespaces are host-wide
AUTH = ClassroomAuth(COURSE_KEY, LinkState.new(SEATS))


def lab_app(layout: Layout, shells: dict[str, ShellSpec], backend: SeatBackend | None = None) -> Flask:
    return create_classroom_app(shells, AUTH, work=ClassroomWork(layout, "05", backend))


def as_seat(app: Flask, seat: str, domain: str = "localhost") -> FlaskClient:
    client = app.test_client()
    client.set_cookie(SEAT_COOKIE, AUTH.seat_cookie(seat), domain=domain)
    return client


def as_instructor(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(INSTRUCTOR_COOKIE, AUTH.instructor_cookie())
    return client
