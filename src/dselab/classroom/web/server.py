"""The classroom web server: join links, a seat's page with its terminal, the instructor's page.

`create_classroom_app(shells, auth)` takes the seats as data: seat id -> `ShellSpec` (what the seat's
terminal runs). Who may open what (classroom.auth; a rotated or expired link and the cookies of a
rotated one open nothing from the next request on):

    /join/<token>               a seat's join link: sets that seat's cookie, then opens /seat/<id>/
    /seat/                      -> /seat/<id>/ of the seat in the cookie
    /seat/<id>/                 the seat's page (needs that seat's cookie)
    /seat/<id>/terminal         the seat's terminal websocket (that seat's cookie, same origin)
    /instructor/login/<token>   sets the instructor cookie, then opens /instructor
    /instructor                 every seat's terminal (needs the instructor cookie)

Anything not allowed is a 403 that says the same for a seat that exists and one that does not.
`web.security.protect` guards every request first (served Host names, same-origin JSON for state
changes, security headers).

Why the join and login answers are a small page that moves on (meta refresh) instead of a redirect:
the cookies are SameSite=Strict, and a browser does not send such a cookie on a redirect that began
on another site (a join link clicked in a mail or the course site); a navigation started by our own
page does carry it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, make_response, redirect, render_template, request, url_for
from flask_sock import Sock
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.http import parse_cookie
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import BaseWSGIServer
from werkzeug.wrappers import Response as WerkzeugResponse

from dselab import render, resources
from dselab.classroom.web import connection_caps as caps
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.instructor_grid import add_grid_routes
from dselab.classroom.web.seat_session import SeatSession
from dselab.classroom.web.terminal import ShellSpec, TerminalRegistry
from dselab.classroom.web.terminal_socket import CLOSE_NO_SHELL, Socket, bridge
from dselab.classroom.web.work import ClassroomWork
from dselab.errors import DselabError
from dselab.settings import Settings, resolve
from dselab.web.guards import refuse_cross_site
from dselab.web.headers import policy_with_style_nonce
from dselab.web.hosts import LOOPBACK_NAMES, served_names
from dselab.web.lab_pages import Front, Scope, lab_blueprint
from dselab.web.security import protect

SEAT_COOKIE = "dselab_seat"
INSTRUCTOR_COOKIE = "dselab_instructor"
NOT_YOURS = "This page is not open to you. Open your own join link."
NOT_INSTRUCTOR = "The instructor pages need the instructor login link that `dselab classroom serve` prints."
WS_OPTIONS = {"max_message_size": 64 * 1024, "ping_interval": 25}  # pings keep proxies from closing idle shells


def create_classroom_app(shells: Mapping[str, ShellSpec], auth: ClassroomAuth,
                         allowed_hosts: Iterable[str] = LOOPBACK_NAMES,
                         terminals: TerminalRegistry | None = None, work: ClassroomWork | None = None) -> Flask:
    """The classroom server for `shells` (seat id -> its terminal's command). `auth` holds the course
    key and the live link state (classroom.links.LiveLinks in `classroom serve`). The app's
    TerminalRegistry (app.extensions["dselab_terminals"]) must be closed by its owner.
    With `work` (the seats' lab on the server) a seat's page is its lab's steps beside the terminal,
    and the instructor's page is the grid of students by steps."""
    site = resources.site_dir()  # the pages, scripts and the vendored xterm.js (site/static/vendor)
    app = Flask(__name__, static_folder=str(site / "static"), static_url_path="/static",
                template_folder=str(site / "templates"))
    app.config["SOCK_SERVER_OPTIONS"] = WS_OPTIONS
    protect(app, allowed_hosts)
    registry = terminals or TerminalRegistry(lambda seat_id: shells[seat_id])
    app.extensions["dselab_terminals"] = registry
    sock = Sock(app)

    app.register_blueprint(_join_routes(auth, shells))
    app.register_blueprint(_seat_routes(auth, shells, registry, sock, work))
    app.register_blueprint(_instructor_routes(auth, shells, registry, work))

    @app.get("/")
    def index() -> str:
        return render_template("classroom/message.html", title="dselab classroom",
                               message="Open the join link your instructor gave you.")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[str, int]:
        code = err.code or 500
        return render_template("classroom/message.html", title=f"{code} {err.name}",
                               message=err.description or ""), code

    return app


def make_classroom_server(host: str, port: int, shells: Mapping[str, ShellSpec], auth: ClassroomAuth,
                          allow_hosts: Iterable[str] = (), work: ClassroomWork | None = None,
                          ssl_context: tuple[str, str] | None = None, behind_proxy: bool = False,
                          settings: Settings | None = None) -> BaseWSGIServer:
    """The classroom server on host:port (0: any free port), threaded: every open terminal holds a thread,
    with caps on connections in all and per seat (classroom.connection_caps).
    It answers the loopback names, `host` and `allow_hosts` (web.hosts.served_names); HTTPS with
    `ssl_context` (certificate file, key file). `behind_proxy`: one reverse proxy in front whose
    X-Forwarded-Proto/-Host are the browser's scheme and host (the Origin check and Secure cookies
    compare against those)."""
    app = create_classroom_app(shells, auth, served_names(host, allow_hosts), work=work)
    if behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    def cookie_seat(environ: dict[str, Any]) -> str | None:  # the per-seat connection cap counts by the cookie's seat
        return auth.seat_from_cookie(parse_cookie(environ).get(SEAT_COOKIE))

    room = resolve(settings).classroom  # the caps: DSELAB_CLASSROOM_SEAT_CONNECTIONS, _MAX_CONNECTIONS
    app.wsgi_app = caps.SeatCaps(app.wsgi_app, cookie_seat, room.seat_connections)  # type: ignore[method-assign]
    return caps.CappedWSGIServer(host, port, app, ssl_context=ssl_context, max_connections=room.max_connections)


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=request.is_secure)


def _moving_on(target: str, title: str) -> Response:
    """A page that opens `target` at once, as a same-site navigation (see the module docstring)."""
    response = make_response(render_template("classroom/moving_on.html", target=target, title=title))
    response.headers["Cache-Control"] = "no-store"
    return response


def _join_routes(auth: ClassroomAuth, shells: Mapping[str, ShellSpec]) -> Blueprint:
    bp = Blueprint("join", __name__)

    @bp.get("/join/<token>")
    def join(token: str) -> Response:
        seat_id = auth.seat_for_token(token, shells.keys())
        if seat_id is None:
            raise Forbidden("This join link is not valid. Ask your instructor for yours.")
        until = auth.token_expiry(token)  # the cookie ends with the link
        response = _moving_on(url_for("seat.page", seat_id=seat_id), f"Joining seat {seat_id}")
        _cookie(response, SEAT_COOKIE, auth.seat_cookie(seat_id, until), auth.cookie_max_age(until))
        return response

    return bp


def _seat_routes(auth: ClassroomAuth, shells: Mapping[str, ShellSpec], registry: TerminalRegistry,
                 sock: Sock, work: ClassroomWork | None) -> Blueprint:
    bp = Blueprint("seat", __name__, url_prefix="/seat")

    def cookie_seat() -> str | None:
        seat_id = auth.seat_from_cookie(request.cookies.get(SEAT_COOKIE))
        return seat_id if seat_id in shells else None

    @bp.before_request
    def only_own_seat() -> None:
        """Every seat route: the cookie's seat must be the seat in the URL; the terminal also same-origin."""
        wanted = (request.view_args or {}).get("seat_id")
        if wanted is None:
            return
        if cookie_seat() != wanted:
            raise Forbidden(NOT_YOURS)
        if request.endpoint == "seat.terminal":
            refuse_cross_site()  # a websocket open is a GET: the JSON-only guard does not cover it

    @bp.get("/")
    def own_seat() -> WerkzeugResponse:
        seat_id = cookie_seat()
        if seat_id is None:
            raise Forbidden(NOT_YOURS)
        return redirect(url_for("seat.page", seat_id=seat_id))  # same-site: the cookie came with it

    @bp.get("/<seat_id>/")
    def page(seat_id: str) -> WerkzeugResponse:
        if work is not None:  # the lab's first step, beside the terminal
            return redirect(url_for("seat.lab.step_page", seat_id=seat_id, lab_ref=work.lab.id,
                                    step_ref=work.lab.steps[0].id))
        nonce = secrets.token_urlsafe(16)
        response = make_response(render_template("classroom/seat.html", seat_id=seat_id, nonce=nonce,
                                                  terminal_path=f"{request.script_root}/seat/{seat_id}/terminal"))
        response.headers["Content-Security-Policy"] = policy_with_style_nonce(nonce)
        response.headers["Cache-Control"] = "no-store"
        return response

    @sock.route("/<seat_id>/terminal", bp=bp)  # type: ignore[untyped-decorator]  # flask-sock has no types
    def terminal(ws: Socket, seat_id: str) -> None:
        cookie = request.cookies.get(SEAT_COOKIE)  # asked again while open: a rotation ends the page's shell

        def still_allowed() -> bool:
            return auth.seat_from_cookie(cookie) == seat_id

        try:
            session = registry.session(seat_id)
        except DselabError as err:  # the shell cannot start: say why in the terminal itself
            ws.send(f"\r\n[{err.one_line()}]\r\n".encode())
            ws.close(CLOSE_NO_SHELL, "the shell cannot start")
            return
        bridge(ws, session, still_allowed)

    if work is not None:  # the lab pages, inside this blueprint: its seat guard runs first
        bp.register_blueprint(lab_blueprint(_seat_front(work), url_prefix="/<seat_id>"))
    return bp


@dataclass(frozen=True)
class SeatLinks(render.Links):
    """Page links inside one seat (/seat/<id>/...); static files stay at the server's /static/."""

    def static(self, name: str) -> str:
        return f"/static/{name}"


def _seat_front(work: ClassroomWork) -> Front:
    """The lab pages of a seat: its session, links under /seat/<id>/, framed beside its terminal."""

    def root(scope: Scope) -> str:
        return f"{request.script_root}/seat/{scope['seat_id']}/"

    def frame(scope: Scope, nonce: str) -> dict[str, object]:
        return {"layout": "classroom/seat_lab.html", "seat_id": scope["seat_id"], "nonce": nonce,
                "terminal_path": root(scope) + "terminal"}

    return Front(session=lambda scope: SeatSession(work, scope["seat_id"]),
                 links=lambda scope: SeatLinks(root=root(scope)), frame=frame, index=False)


def _instructor_routes(auth: ClassroomAuth, shells: Mapping[str, ShellSpec],
                       registry: TerminalRegistry, work: ClassroomWork | None) -> Blueprint:
    bp = Blueprint("instructor", __name__, url_prefix="/instructor")

    @bp.before_request
    def only_instructor() -> None:
        if request.endpoint != "instructor.login" and not auth.is_instructor_cookie(
                request.cookies.get(INSTRUCTOR_COOKIE)):
            raise Forbidden(NOT_INSTRUCTOR)

    @bp.get("/login/<token>")
    def login(token: str) -> Response:
        if not auth.is_instructor_token(token):
            raise Forbidden(NOT_INSTRUCTOR)
        response = _moving_on(url_for("instructor.overview"), "Instructor login")
        _cookie(response, INSTRUCTOR_COOKIE, auth.instructor_cookie(), auth.max_age_s)
        return response

    def terminal_rows() -> list[dict[str, object]]:
        rows = []
        for seat_id in sorted(shells):
            session = registry.running(seat_id)
            rows.append({"seat": seat_id, "running": session is not None,
                         "attached": session.attached if session else 0})
        return rows

    @bp.get("")
    def overview() -> str:
        if work is not None:
            return render_template("classroom/grid.html", lab=work.lab)
        return render_template("classroom/instructor.html", rows=terminal_rows())

    @bp.get("/api/terminals")
    def terminals() -> Response:
        return jsonify({"seats": terminal_rows()})

    if work is not None:
        add_grid_routes(bp, work)
    return bp

