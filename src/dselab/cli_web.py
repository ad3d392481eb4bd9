"""CLI commands for reading the lab: `show` (terminal), `build-site` (static HTML), `serve` (web lab).

The lead's CLI calls `register(group)`; errors are DselabErrors, which it turns into one line.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
from werkzeug.serving import BaseWSGIServer, make_server

from dselab import paths, render, service
from dselab.catalogue import get_lab
from dselab.cli_context import loaded_settings
from dselab.errors import DselabError, UsageError
from dselab.web.app import create_app
from dselab.web.hosts import is_loopback, served_names
from dselab.web.local_session import WorkspaceFactory

DEFAULT_SITE_DIR = Path("build") / "site"  # relative to the current folder


def _variables() -> dict[str, Any]:
    """The running version's template variables; the offline default if the runtime cannot say."""
    ws = None
    try:
        ws = service.open_workspace(settings=loaded_settings())
        return service.template_vars(ws)
    except DselabError as err:
        label = render.variant_label(render.OFFLINE_VARS)
        click.echo(f"note: showing commands for {label} ({err.one_line()})", err=True)
        return render.OFFLINE_VARS
    finally:
        if ws is not None:
            ws.close()


def check_port(host: str, port: int) -> None:
    """Fail with the fix before starting anything (werkzeug would print and exit on its own)."""
    if port == 0:
        return
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror or err}",
                         fix="pick another --port or --host") from None


def exposure_warning(host: str, port: int) -> str | None:
    """What to tell the user when the web lab listens beyond this machine; None on loopback."""
    if is_loopback(host):
        return None
    return (f"warning: --host {host} is not a loopback address: the web lab speaks plain HTTP with no "
            f"login, so anyone who can reach this machine on port {port} can read the pages, run checks "
            "and change answers. Keep the default 127.0.0.1, or put a TLS reverse proxy in front.")


def make_web_server(host: str, port: int, workspace_factory: WorkspaceFactory,
                    allow_hosts: Iterable[str] = ()) -> BaseWSGIServer:
    """The web lab on host:port (port 0: any free port); threaded, so page loads go on during a check.
    It answers the loopback names, `host` and `allow_hosts` (web.hosts.served_names)."""
    check_port(host, port)
    app = create_app(workspace_factory, allowed_hosts=served_names(host, allow_hosts))
    return make_server(host, port, app, threaded=True)


def _url(host: str, port: int) -> str:
    shown = "localhost" if host in ("", "0.0.0.0", "::") else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def register(group: click.Group) -> None:
    @group.command("show")
    @click.argument("lab_ref", metavar="LAB")
    @click.argument("step_ref", metavar="[STEP]", required=False)
    def show(lab_ref: str, step_ref: str | None) -> None:
        """Show a lab's steps, or one step's page, in the terminal."""
        lab = get_lab(lab_ref)
        if step_ref is None:
            click.echo(render.render_lab_terminal(lab), nl=False)
            return
        step = lab.step(step_ref)
        click.echo(render.render_step_terminal(lab, step, _variables()), nl=False)

    @group.command("build-site")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                  default=DEFAULT_SITE_DIR, show_default=True, help="Where to write the static site.")
    def build_site(out_dir: Path) -> None:
        """Write every lab as static HTML (solutions behind a reveal)."""
        written = render.build_site(out_dir)
        pages = sum(1 for p in written if p.suffix == ".html")
        click.echo(f"wrote {pages} pages to {out_dir} (open {out_dir / 'index.html'})")

    @group.command("serve")
    @click.option("--port", default=paths.WEB_PORT, show_default=True, type=click.IntRange(1, 65535))
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on; anything but loopback is reachable from the network.")
    @click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
                  help="Another name the lab is reached by (e.g. behind a proxy); repeatable. "
                       "Requests naming any other host are refused (DNS rebinding).")
    def serve(port: int, host: str, allow_hosts: tuple[str, ...]) -> None:
        """Serve the web lab: step pages with a Check button, answers, cluster status, progress."""
        warning = exposure_warning(host, port)
        if warning:
            click.echo(warning, err=True)
        settings = loaded_settings()
        server = make_web_server(host, port, lambda: service.open_workspace(settings=settings), allow_hosts)
        click.echo(f"The web lab is at {_url(host, port)} (Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            server.app.extensions["dselab"].close()  # type: ignore[attr-defined]
