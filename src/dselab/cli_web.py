"""CLI commands for reading the lab: `show` (terminal), `build-site` (static HTML), `serve` (web lab).

The lead's CLI calls `register(group)`; errors are DselabErrors, which it turns into one line.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click
from werkzeug.serving import BaseWSGIServer, make_server

from dselab import paths, render, service
from dselab.errors import DselabError, UsageError
from dselab.lab import get_lab
from dselab.web.app import WorkspaceFactory, create_app

DEFAULT_SITE_DIR = paths.REPO_ROOT / "build" / "site"


def _variables() -> dict[str, Any]:
    """The running version's template variables; the offline default if the runtime cannot say."""
    ws = None
    try:
        ws = service.open_workspace()
        return service.template_vars(ws)
    except DselabError as err:
        label = render.variant_label(render.OFFLINE_VARS)
        click.echo(f"note: showing commands for {label} ({err.one_line()})", err=True)
        return render.OFFLINE_VARS
    finally:
        if ws is not None:
            ws.close()


def _check_port(host: str, port: int) -> None:
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


def make_web_server(host: str, port: int, workspace_factory: WorkspaceFactory) -> BaseWSGIServer:
    """The web lab on host:port (port 0: any free port); threaded, so page loads go on during a check."""
    _check_port(host, port)
    return make_server(host, port, create_app(workspace_factory), threaded=True)


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
    @click.option("--host", default="127.0.0.1", show_default=True)
    def serve(port: int, host: str) -> None:
        """Serve the web lab: step pages with a Check button, answers, cluster status, progress."""
        server = make_web_server(host, port, service.open_workspace)
        click.echo(f"The web lab is at http://{host}:{port}/ (Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            server.app.extensions["dselab"].close()  # type: ignore[attr-defined]
