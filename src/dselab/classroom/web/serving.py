"""`dselab classroom serve`: the classroom web server over the registry's seats. The course key stays
on the server (the one `classroom up` kept); the links it checks are classroom.join_links'."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer

from dselab.catalogue import DEFAULT_LAB
from dselab.classroom.backend import SeatBackend
from dselab.classroom.layout import Layout
from dselab.classroom.web import links
from dselab.classroom.web.join_links import live_auth
from dselab.classroom.web.server import make_classroom_server
from dselab.classroom.web.work import ClassroomWork
from dselab.errors import UsageError
from dselab.web.hosts import is_loopback


def base_url(host: str, port: int, tls: bool = False) -> str:
    shown = "localhost" if host in ("", "0.0.0.0", "::") else host
    netloc = f"[{shown}]:{port}" if ":" in shown else f"{shown}:{port}"
    return f"{'https' if tls else 'http'}://{netloc}"


def plain_http_warning(host: str, tls: bool) -> str | None:
    """What to say when students' cookies and keystrokes would cross the network unencrypted."""
    if tls or is_loopback(host):  # a proxy on this machine reaches a loopback server
        return None
    return (f"warning: --host {host} serves plain HTTP: join links, cookies and every keystroke of the "
            "terminals cross the network unencrypted. Give --certfile/--keyfile, or put a TLS reverse "
            "proxy in front (README: Running a class).")


def tls_files(certfile: Path | None, keyfile: Path | None) -> tuple[str, str] | None:
    if (certfile is None) != (keyfile is None):
        raise UsageError("give --certfile and --keyfile together")
    if certfile is None or keyfile is None:
        return None
    for path in (certfile, keyfile):
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
    return str(certfile), str(keyfile)


@dataclass
class Served:
    server: BaseWSGIServer
    url: str
    work: ClassroomWork


def make_server(host: str, port: int, allow_hosts: Iterable[str] = (), lab: str = DEFAULT_LAB,
                ssl: tuple[str, str] | None = None, layout: Layout | None = None,
                behind_proxy: bool = False, backend: SeatBackend | None = None) -> Served:
    """The classroom server for every seat in the registry (port 0: any free port), on `backend`'s
    seats (the host's unless given)."""
    layout = backend.layout if backend else layout or Layout.current()
    work = ClassroomWork(layout, lab, backend)
    shells = work.shells()
    if not shells:
        raise UsageError("the classroom has no seats", fix="run `dselab classroom up --seats N` first")
    auth = live_auth(layout)
    links.ensure(layout, shells)  # a classroom from before link rotation gets its classroom id here
    server = make_classroom_server(host, port, shells, auth, allow_hosts, work=work, ssl_context=ssl,
                                  behind_proxy=behind_proxy, settings=layout.settings)
    return Served(server, base_url(host, server.server_port, ssl is not None), work)


def run(served: Served, say: Callable[[str], None]) -> None:
    try:
        served.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        served.server.server_close()
        served.server.app.extensions["dselab_terminals"].close()  # type: ignore[attr-defined]
        say("classroom server stopped")
