"""`dselab show`, `build-site` and `serve` (cli_web): lab text through the sandbox, the exposure warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dselab import cli_web, render
from dselab.cli import main
from dselab.errors import EnvironmentProblem, UsageError
from dselab.lab import Lab, Step
from dselab.service import Workspace
from dselab.web import create_app

PAYLOAD = "{{cycler.__init__.__globals__.os.popen('touch %s').read()}}"


def payload_lab(marker: Path) -> Lab:
    """A lab whose step text carries the template payload from the issue."""
    step = Step(id="evil", number=1, title="Evil step", body=f"Run:\n\n{PAYLOAD % marker}\n",
                solution=("./scripts/nodetool.sh status",))
    return Lab(id="66-evil", number="66", title="Evil", summary="", steps=(step,))


def test_show_refuses_the_payload_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.setattr(cli_web, "get_lab", lambda ref: payload_lab(marker))
    monkeypatch.setattr(cli_web, "_variables", lambda: render.OFFLINE_VARS)
    result = CliRunner().invoke(main, ["show", "66", "1"])
    assert result.exit_code == 2
    assert "step 1 (evil) of lab 66: unsafe template code refused" in result.output
    assert "Traceback" not in result.output and not marker.exists()


def test_build_site_refuses_the_payload(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(UsageError, match="unsafe template code refused"):
        render.build_site(tmp_path / "site", labs=[payload_lab(marker)])
    assert not marker.exists()


def no_cluster() -> Workspace:
    raise EnvironmentProblem("no runtime in a unit test")


def test_web_step_page_refuses_the_payload(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    client = create_app(no_cluster, labs=[payload_lab(marker)]).test_client()
    page = client.get("/labs/66/1")
    assert page.status_code == 500
    assert "unsafe template code refused" in page.get_data(as_text=True) and not marker.exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "lab.example.org"])
def test_serve_warns_when_not_on_loopback(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_listen(*args: object) -> None:  # stop before listening: the warning is what is tested
        raise UsageError("not listening in a unit test")

    monkeypatch.setattr(cli_web, "make_web_server", no_listen)
    result = CliRunner().invoke(main, ["serve", "--host", host, "--port", "8099"])
    assert f"warning: --host {host} is not a loopback address" in result.output
    assert "plain HTTP" in result.output and "port 8099" in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.63.1", "localhost", "::1"])
def test_serve_is_quiet_on_loopback(host: str) -> None:
    assert cli_web.exposure_warning(host, 8055) is None


def test_serve_answers_only_the_served_names() -> None:
    """The real server from `make_web_server`: its app refuses other Host names."""
    server = cli_web.make_web_server("127.0.0.1", 0, no_cluster, ["lab.example.org"])
    try:
        client = server.app.test_client()  # type: ignore[attr-defined]
        assert client.get("/static/lab.css", headers={"Host": "lab.example.org"}).status_code == 200
        assert client.get("/static/lab.css", headers={"Host": "127.0.0.1:8055"}).status_code == 200
        assert client.get("/static/lab.css", headers={"Host": "evil.example"}).status_code == 400
    finally:
        server.server_close()
