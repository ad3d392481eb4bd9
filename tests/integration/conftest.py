"""A real lab cluster for the integration tests: started once per session, torn down at the end.

It lives in its own DSELAB_HOME and loopback range (127.0.57.x, JMX 7955+) so a developer's own
lab cluster keeps running while the tests do. DSELAB_TEST_RUNTIME=docker runs the same tests on
the Docker runtime (`make test-docker` does, against its own engine and the stand-in image).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DSELAB_LOOPBACK", "127.0.57")
os.environ.setdefault("DSELAB_JMX_BASE", "7955")
# The test classrooms (test_classroom.py, the trust room) share one seats' cluster template: made
# once by the first `classroom up`, found by the next; the trust room's last purge removes it.
os.environ.setdefault("DSELAB_CLASSROOM_TEMPLATES", "/var/lib/dselab/classroom-test-templates")
RUNTIME = os.environ.get("DSELAB_TEST_RUNTIME", "local")
os.environ["DSELAB_RUNTIME"] = RUNTIME

from dselab import environment, service  # noqa: E402
from dselab.lab_folder import working_folder  # noqa: E402
from dselab.runtime.base import LAB_NODES  # noqa: E402

pytestmark = pytest.mark.integration
CHECKOUT = Path(__file__).resolve().parents[2]  # the tests run from the source tree

# Chromium for the browser tests comes from Debian (/usr/bin/chromium): Playwright downloads no browser.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"  # screenshots


@pytest.fixture(scope="session")
def test_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = Path(os.environ.get("DSELAB_TEST_HOME", CHECKOUT / "build" / "test-home"))
    home.mkdir(parents=True, exist_ok=True)
    old = os.environ.get("DSELAB_HOME")
    os.environ["DSELAB_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("DSELAB_HOME", None)
    else:
        os.environ["DSELAB_HOME"] = old


# How the session's cluster first came up, before any test changed it (local runtime): the progress
# lines (the long way that kept the template, or made from it), its ring and dse-node-2's left data.
# test_template_cluster.py makes a cluster from the template and compares it with this one.
FIRST_UP: dict[str, object] = {}


@pytest.fixture(scope="session")
def lab_workspace(test_home: Path) -> Iterator[service.Workspace]:
    """A running lab cluster with lab 05 started."""
    from cluster_identity import Lines, ring, uncleaned

    ws = service.open_workspace(RUNTIME)
    ws.runtime.down(purge=True)
    ws.store.forget_everything()
    lines = Lines()
    service.start_lab(ws, "05", lines)
    if RUNTIME == "local":
        FIRST_UP.update(lines=lines.lines, ring=ring(ws.runtime), uncleaned=uncleaned(ws.runtime))
    yield ws
    from dselab.runtime.factory import restore_runtime

    restore_runtime(RUNTIME).down(purge=True)
    ws.runtime.down(purge=True)
    ws.close()


@pytest.fixture(scope="session")
def trust_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Two real classroom seats (mallory attacks, victim works) shared by the trust tests; root only."""
    if os.geteuid() != 0:
        pytest.skip("the classroom creates users and namespaces: root only")
    from trust_room import close_room, open_room

    room = open_room(tmp_path_factory.mktemp("trust-room"))
    yield room
    close_room()


class Student:
    """Types commands in a lab folder, exactly like a student (scripts/ on the real cluster)."""

    def __init__(self, ws: service.Workspace) -> None:
        self.ws = ws
        self.settings = service.student_settings(ws)  # the workspace's settings, on its runtime
        self.shell_env: dict[str, str] = {}  # what this student's machine adds to the shell (run_status)

    def run(self, command: str) -> str:
        return service.run_student_command(command, self.settings).stdout

    def run_status(self, command: str) -> tuple[int, str, str]:
        import subprocess

        env = {**service.student_env(self.settings), **self.shell_env}
        proc = subprocess.run(["bash", "-c", command], cwd=working_folder(), env=env,
                              capture_output=True, text=True, timeout=600)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def student(lab_workspace: service.Workspace) -> Student:
    return Student(lab_workspace)


def reset_lab(ws: service.Workspace) -> None:
    """Undo what the lab's steps did, then start it again (new log marks, no attempts)."""
    from dselab.runtime.factory import restore_runtime

    restore_runtime(RUNTIME).down(purge=True)
    for node in LAB_NODES:
        ws.runtime.nodetool(node, ["clearsnapshot", "--all"])
        ws.runtime.nodetool(node, ["disablebackup"])
        for entry in ws.runtime.list_files(node, environment.KEYSPACE):
            if "/backups/" in entry.path:
                ws.runtime.remove_files(node, [entry.path])
    reset_training(ws)
    service.start_lab(ws, "05")


def reset_training(ws: service.Workspace) -> None:
    """The training tables hold the environment's rows again (written anew), and no snapshot is left."""
    for table in environment.TABLES:
        ws.runtime.cql(f"TRUNCATE {environment.KEYSPACE}.{table}")
    environment.insert_rows(ws.runtime, "customers", environment.customer_rows())
    environment.insert_rows(ws.runtime, "orders", environment.order_rows())
    for node in LAB_NODES:
        ws.runtime.nodetool(node, ["clearsnapshot", "--all"])  # TRUNCATE's own snapshots, and any other


@pytest.fixture
def fresh_lab(lab_workspace: service.Workspace) -> service.Workspace:
    reset_lab(lab_workspace)
    return lab_workspace


# -- a browser tab ---------------------------------------------------------------------------------


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions of one tab (CSP violations are console errors)."""

    def watch(self, page) -> None:
        page.on("console", lambda msg: self.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.append(f"uncaught: {exc}"))


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def chromium() -> Iterator[object]:
    """Headless Debian Chromium under Playwright (a Browser); a skip when it is missing, a failure in CI."""
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing (apt-get install -y chromium); Playwright cannot download one here"
        if os.environ.get("DSELAB_REQUIRE_BROWSER") == "1":  # CI: a missing browser is a failure, not a skip
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, console_errors: ConsoleErrors) -> object:
    """One tab whose console errors land in `console_errors`."""
    tab = chromium.new_page(viewport={"width": 1280, "height": 900})
    console_errors.watch(tab)
    return tab
