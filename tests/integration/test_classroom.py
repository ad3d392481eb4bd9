"""Two classroom seats on real Cassandra (issue 10): a seat's work earns credit, the other seat's
forgeries earn nothing and change nothing, a dead node is seen and reset, purge leaves nothing.

Runs as root (CI does). Tests run in file order on one classroom; the last one purges it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from classroom_web import (
    WS_HEADERS,
    classroom_serve,
    picture_matches_grid,
    row_pixels,
    shown_evidence,
    type_line,
    wait_for_text,
    websocket_outcome,
)
from trust_room import start_classroom

from dselab.catalogue import get_lab
from dselab.classroom import registry
from dselab.classroom.host import namespaces, seat_template, seats
from dselab.classroom.host.seats import HostSeat
from dselab.classroom.layout import ROOT_ENV, Layout
from dselab.classroom.web.join_links import join_links
from dselab.runtime import distribution
from dselab.templating import render_text, version_vars

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="the classroom creates users and namespaces: root only")]

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
ROOT = Path(os.environ.get("DSELAB_CLASSROOM_TEST_ROOT", "/var/lib/dselab/classroom-test"))
A, B = "alice", "Bob.B"  # B's id is no plain user name: exercises the hashed mapping


def classroom(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, ROOT_ENV: str(ROOT)}
    return subprocess.run([sys.executable, "-m", "dselab", "classroom", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def as_seat(seat: str, command: str) -> subprocess.CompletedProcess[str]:
    return classroom("exec", seat, "--", "bash", "-c", command, timeout=300)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    work = tmp_path_factory.mktemp("classroom")
    key, up = start_classroom(ROOT, work, [A, B])
    layout = Layout(ROOT)
    known = registry.load(layout)
    yield {"layout": layout, "key": key, "work": work, "a": HostSeat.of(layout, known[A]),
           "b": HostSeat.of(layout, known[B]), "up": up}
    if ROOT.exists():
        classroom("down", "--purge")


def attempts(seat: HostSeat) -> list[dict]:
    store = seat.server_store()
    try:
        return store.attempts("05-backup-restore")
    finally:
        store.close()


def test_up_reports_progress_per_seat_and_starts_lab_05(room: dict) -> None:
    err = room["up"].stderr
    for seat in (A, B):
        assert f"{seat}: lab 05 started (baseline recorded by the server)" in err
        assert f"{seat}: ready: user" in err
    assert "2 of 2 seat(s) ok" in room["up"].stdout
    # The class's cluster template is made once, by its builder (or found made by an earlier class that
    # shares its folder, DSELAB_CLASSROOM_TEMPLATES), and every seat's cluster copied from it
    assert "template: cluster template" in err and (" made (" in err or " is ready (" in err), err
    for seat in (A, B):
        assert any(line.startswith(f"{seat}: ") and "cluster made from template" in line and "0 files linked" in line
                   for line in err.splitlines()), err
    again = classroom("up")  # a running classroom: nothing to start
    assert again.returncode == 0 and "0 to start" in again.stderr, again.stderr


def test_the_lab_run_starts_each_observers_warm_server_before_any_check(room: dict) -> None:
    """Issue 17: the baseline `up` takes for lab 05 starts the observer's warm nodetool server in the
    background, so that a seat's first Check is answered warm too (no Check has run yet here)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(warm_servers(room[s].observer) for s in ("a", "b")):
        time.sleep(1)
    assert all(len(warm_servers(room[s].observer)) == 1 for s in ("a", "b"))


SEAT_NODETOOL_ON_ITS_ARCHIVE = """python - <<'EOF'
import subprocess
from dselab.runtime.factory import make_runtime
from dselab.runtime.local import NODETOOL_MAIN
runtime = make_runtime("local")
spec = runtime.require_running("dse-seed")
argv = runtime.tool_argv(spec, NODETOOL_MAIN, ["-h", "127.0.0.1", "-p", str(spec.jmx_port), "statusbackup"])
print(*[a for a in argv if a.startswith("-XX:SharedArchiveFile=") or a.startswith("-XX:ArchiveClassesAtExit=")])
forced = subprocess.run([argv[0], "-Xshare:on", *argv[1:]], capture_output=True, text=True, timeout=120)
print(forced.returncode, forced.stdout.strip(), forced.stderr.strip()[-300:])
EOF"""


def test_root_makes_nodetools_class_archive_that_seats_map_and_cannot_change(room: dict) -> None:
    """Issue 17: at `up`, root makes nodetool's class archive in the toolchain's cache, so that no
    observer's and no student's nodetool JVM loads its classes one by one. A seat reads it and cannot
    change it; its own nodetool maps it (with -Xshare:on a JVM refuses to start on an archive that
    does not fit it) and never dumps one of its own."""
    folder = room["layout"].toolchain / "cache" / "class-archives"
    archives = list(folder.glob("NodeTool-*.jsa"))
    assert len(archives) == 1, list(folder.iterdir())
    for item in (folder, archives[0]):
        info = item.lstat()
        assert info.st_uid == 0 and not info.st_mode & 0o022, (item, oct(info.st_mode))
    done = as_seat(A, SEAT_NODETOOL_ON_ITS_ARCHIVE)
    assert done.returncode == 0, done.stdout + done.stderr
    flags, outcome = done.stdout.strip().splitlines()[-2:]
    assert flags == f"-XX:SharedArchiveFile={archives[0]}", done.stdout
    assert outcome in ("0 running", "0 not running"), done.stdout
    refused = as_seat(A, f"touch {archives[0]} || echo refused; touch {folder}/planted.jsa || echo refused")
    assert refused.stdout.split() == ["refused"] * 2, refused.stdout + refused.stderr


STEP1_COMMAND = "./scripts/nodetool.sh snapshot training -t lab_backup"


@pytest.mark.browser
def test_in_the_browser_a_passes_step_1_from_the_page_terminal_b_does_not_and_the_grid_shows_it(
        room: dict, chromium, console_errors) -> None:
    """`classroom serve` for both seats; three browser contexts: student A, student B, the instructor."""
    with classroom_serve(ROOT) as served:
        links = join_links(room["layout"], served.url)
        step1 = "/labs/05-backup-restore/snapshot"
        a = chromium.new_context(viewport={"width": 1500, "height": 900}).new_page()
        console_errors.watch(a)
        a.goto(links[A])
        a.wait_for_url(f"{served.url}/seat/{A}{step1}")
        a.wait_for_selector("#terminal-state.up", timeout=60_000)
        type_line(a, "echo ready-$((6*7))")
        wait_for_text(a, "ready-42")
        usable_s = time.monotonic() - served.started_at
        print(f"\nclassroom serve -> a usable terminal in the page: {usable_s:.1f} s")

        type_line(a, "sleep 5; echo done-$((1+1))")  # a reload does not kill a running command
        time.sleep(0.5)
        a.reload()
        a.wait_for_selector("#terminal-state.up", timeout=30_000)
        wait_for_text(a, "ready-42")  # the scrollback from before the reload
        wait_for_text(a, "done-2")

        type_line(a, "clear; echo " + "_" * 40 + "; echo " + "-" * 40 + "; echo glyphs-ok")
        wait_for_text(a, "glyphs-ok")
        underscores, dashes = row_pixels(a, 0), row_pixels(a, 1)  # the real seat's terminal draws every glyph
        assert dashes > 0 and underscores >= dashes / 2, (underscores, dashes)

        type_line(a, f"{STEP1_COMMAND}; echo snap-exit-$?")
        wait_for_text(a, "snap-exit-0", timeout_ms=120_000)
        began = time.monotonic()
        a.click("#check-button")
        a.wait_for_selector("#check-result.pass, #check-result.fail, #check-result.error", timeout=300_000)
        check_s = time.monotonic() - began
        print(f"Check latency seen in the browser (step 1, seat {A}): {check_s:.1f} s")
        assert a.text_content("#check-result .verdict") == "Passed", a.text_content("#check-result")
        a.screenshot(path=str(ARTIFACTS / "classroom-seat-page.png"))

        b = chromium.new_context(viewport={"width": 1500, "height": 900}).new_page()
        b.goto(links[B])
        b.wait_for_selector("#check-button")
        b.click("#check-button")
        b.wait_for_selector("#check-result.pass, #check-result.fail, #check-result.error", timeout=300_000)
        assert b.text_content("#check-result .verdict") == "Not yet", b.text_content("#check-result")

        # A's browser on B's pages, terminal and progress; a cross-site check with A's own cookie
        b_seat = f"/seat/{quote(B)}"
        assert a.context.request.get(f"{served.url}{b_seat}{step1}").status == 403
        assert a.context.request.get(f"{served.url}{b_seat}/api/labs/05/progress").status == 403
        assert a.context.request.get(f"{served.url}{b_seat}/terminal", headers=WS_HEADERS).status == 403
        assert websocket_outcome(a, f"{b_seat}/terminal") != "open"
        assert a.context.request.post(f"{served.url}/seat/{A}/api/labs/05/steps/1/check", data="{}",
                                      headers={"Content-Type": "application/json",
                                               "Origin": "http://evil.example"}).status == 403
        assert a.context.request.get(f"{served.url}/instructor/api/grid").status == 403

        teacher = chromium.new_context(viewport={"width": 1500, "height": 700}).new_page()
        console_errors.watch(teacher)
        teacher.goto(served.instructor_link)
        teacher.wait_for_url(f"{served.url}/instructor")
        teacher.wait_for_selector(f'tr[data-seat="{A}"] td[data-step="snapshot"][data-state="passed"]')
        teacher.wait_for_selector(f'tr[data-seat="{B}"] td[data-step="snapshot"][data-state="failed"]')
        teacher.wait_for_selector(f'tr[data-seat="{A}"] td.health.up', timeout=120_000)
        teacher.wait_for_selector("#class-steps g.step-bar", state="attached")
        bars = {r["step"]: r["picture"] for r in picture_matches_grid(teacher, 2)}
        assert bars["snapshot"] == [1, 1, 0], bars  # A passed, B is trying
        teacher.click(f'tr[data-seat="{A}"] td[data-step="snapshot"] button')
        teacher.wait_for_selector("#evidence:not([hidden])")
        assert "pass" in teacher.text_content("#evidence-body")
        outputs = teacher.locator("#evidence-body pre.ev-term").all_inner_texts()
        assert any("lab_backup" in o and "\n" in o for o in outputs), outputs  # nodetool's output, real line breaks
        shown = shown_evidence(teacher)
        assert not any(p in shown for p in ('{"', '":', '\\n', '["')), shown  # no JSON punctuation
        teacher.screenshot(path=str(ARTIFACTS / "classroom-instructor-grid.png"), full_page=True)

        export = teacher.context.request.get(f"{served.url}/instructor/export/reports.zip", timeout=300_000)
        assert export.status == 200
        reports = room["work"] / "exported"
        zipfile.ZipFile(io.BytesIO(export.body())).extractall(reports)
        verified = subprocess.run([sys.executable, "-m", "dselab", "gradebook", str(reports), "--out",
                                   str(room["work"] / "exported.csv"), "--key-file", str(room["key"])],
                                  capture_output=True, text=True, timeout=120)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        book = teacher.context.request.get(f"{served.url}/instructor/export/gradebook.csv", timeout=300_000)
        assert book.status == 200 and A in book.text() and B in book.text()
        refused_probe = f"{b_seat}/terminal"  # the browser logs the 403 of the websocket probe above
        assert [e for e in console_errors if refused_probe not in e] == []


def test_seat_a_passes_step_1_through_exec_and_seat_b_fails(room: dict) -> None:
    # the browser test may have taken A's snapshot already, from the page terminal
    done = as_seat(A, f"./scripts/nodetool.sh listsnapshots | grep -q lab_backup || {STEP1_COMMAND}")
    assert done.returncode == 0, done.stdout + done.stderr
    passed = classroom("check", A, "05", "1")
    assert passed.returncode == 0 and "PASS" in passed.stdout, passed.stdout + passed.stderr
    failed = classroom("check", B, "05", "1")
    assert failed.returncode == 1 and "FAIL" in failed.stdout, failed.stdout + failed.stderr
    assert {a["status"] for a in attempts(room["a"]) if a["step"] == "snapshot"} == {"pass"}


def warm_servers(user: str) -> list[list[str]]:
    """The command lines of `user`'s warm nodetool servers (runtime.nodetool_server)."""
    found = []
    for proc in psutil.process_iter(["username", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["username"] == user and "NodetoolServer" in cmdline:
            found.append(cmdline)
    return found


def test_a_seats_checks_and_its_students_nodetool_are_answered_by_warm_servers_of_their_own(room: dict) -> None:
    """Issue 17: root compiles the warm nodetool server into the toolchain at `up`. The observer's own
    server (started with the lab run, or by a Check) runs in the observer's own home and on root's
    tools config (never one the seat could start or replace); the first `./scripts/nodetool.sh`
    starts the student's, in the seat's home. Later calls are answered by them, with the same text a
    JVM per call prints."""
    a = room["a"]
    observer_run = room["layout"].observer_home(a.observer) / "run"
    cold = as_seat(A, "DSELAB_WARM_NODETOOL=0 ./scripts/nodetool.sh statusbackup")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (warm_servers(a.observer) and warm_servers(a.user)):
        assert classroom("check", A, "05", "3").returncode in (0, 1)
        assert as_seat(A, "./scripts/nodetool.sh statusbackup").returncode == 0
        time.sleep(2)
    [observers] = warm_servers(a.observer)
    [students] = warm_servers(a.user)
    assert str(observer_run / "nodetool-lab.sock") in observers, observers
    assert f"-Dlogback.configurationFile=file://{room['layout'].tools_conf}/logback-tools.xml" in observers
    classpath = observers[observers.index("-cp") + 1]
    assert not any(str(a.home) in arg for arg in [classpath, *(f for f in observers if f.startswith("-"))]), \
        "no flag and no class of the seat's in the observer's server (it only watches the seat's pid files)"
    assert str(a.cluster_home / "run" / "nodetool-lab.sock") in students, students
    warm = as_seat(A, "./scripts/nodetool.sh statusbackup")
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout) and warm.stdout.strip() in (
        "running", "not running"), warm.stdout + warm.stderr
    assert classroom("check", A, "05", "1").returncode == 0


def test_seat_b_cannot_reach_the_server_seat_a_or_the_key(room: dict) -> None:
    layout, a, b = room["layout"], room["a"], room["b"]
    before = (attempts(a), attempts(b))
    store_a = a.store_dir / "state-local.sqlite"
    forgeries = {
        "read the server store": f"cat {store_a}",
        "list the server folder": f"ls {layout.server}",
        "write the server store": f"echo x >> {store_a}",
        "plant a file on the server": f"touch {layout.server}/forged",
        "read the course key": f"cat {layout.key_file}",
        "read A's home": f"ls {a.home}",
        "read A's data": f"cat {a.cluster_home}/clusters/lab/dse-seed/conf/cassandra.yaml",
        "enter A's namespace": f"nsenter --net=/run/netns/{a.netns} true",
        "ip netns exec into A": f"/usr/sbin/ip netns exec {a.netns} true",
        "sign with the server's key": f"dselab grade 05 --student {A} --key-file {layout.key_file} --out /tmp/forged",
        "verify with the server's key": f"dselab gradebook {b.home} --out /tmp/forged.csv --key-file {layout.key_file}",
    }
    for what, command in forgeries.items():
        proc = as_seat(B, command)
        assert proc.returncode != 0, f"{what} succeeded: {proc.stdout}"
        assert any(word in (proc.stderr + proc.stdout).lower()
                   for word in ("permission denied", "operation not permitted", "cannot")), (what, proc.stderr)
    # nodetool and cqlsh in B's namespace reach B's own nodes only: A's snapshot is not there.
    listing = as_seat(B, "./scripts/nodetool.sh listsnapshots")
    assert listing.returncode == 0 and "lab_backup" not in listing.stdout
    cql = as_seat(B, "./scripts/cqlsh.sh -e 'SELECT count(*) FROM system.peers'")
    assert cql.returncode == 0, cql.stderr
    # the old attack: pass rows in the seat's own store change nothing the server grades from
    forge = as_seat(B, "python -c \"from dselab.state import StateStore; s = StateStore.for_runtime('local'); "
                       "[s.record_attempt('05-backup-restore', st, 'pass', 'forged', []) for st in ('snapshot', 'list')]\"")
    assert forge.returncode == 0, forge.stderr
    # a link from B's cluster to A's reads nothing of A's: B's observer is B's group's, not A's
    logs = "~/.dselab/clusters/lab/dse-seed/logs"
    linked = as_seat(B, f"mv {logs} {logs}.mine && ln -s {a.cluster_home}/clusters/lab/dse-seed/logs {logs}")
    assert linked.returncode == 0, linked.stderr
    checked = classroom("check", B, "05", "cleanup", "--json")  # the check that reads the logs
    assert checked.returncode in (1, 2) and json.loads(checked.stdout)[0]["status"] != "pass", checked.stdout
    assert as_seat(B, f"rm {logs} && mv {logs}.mine {logs}").returncode == 0
    assert attempts(a) == before[0] and attempts(b)[:len(before[1])] == before[1]
    assert [x["step"] for x in attempts(b)[len(before[1]):]] == ["cleanup"]
    assert not (layout.server / "forged").exists()


def test_a_dead_node_is_shown_named_by_the_check_and_reset_recovers(room: dict) -> None:
    b = room["b"]
    seats.node_processes(b)["dse-node-2"].kill()
    status = json.loads(classroom("status", "--json").stdout)
    row = next(r for r in status if r["seat"] == B)
    assert row["nodes"]["dse-node-2"] == "down" and row["nodes"]["dse-seed"] == "UN", row
    check = classroom("check", B, "05", "snapshot-all")  # reads every node at once
    assert check.returncode in (1, 2) and "dse-node-2" in check.stdout + check.stderr, check.stdout
    reset = classroom("reset", B)
    assert reset.returncode == 0, reset.stderr
    assert "cluster made from template" in reset.stderr, reset.stderr  # a reset copies the class template
    row = next(r for r in json.loads(classroom("status", "--json").stdout) if r["seat"] == B)
    assert set(row["nodes"].values()) == {"UN"} and row["passed"] == {"05-backup-restore": []}, row


def test_gradebook_ranks_a_above_b_and_verifies_with_the_key(room: dict) -> None:
    work = room["work"]
    book, reports = work / "book.csv", work / "reports"
    made = classroom("gradebook", "--out", str(book), "--reports", str(reports))
    assert made.returncode == 0, made.stderr
    rows = list(csv.DictReader(book.read_text().split("\n\n")[0].splitlines()))
    score = {r["student"]: int(r["score"]) for r in rows}
    assert score[A] >= 2 > score[B] == 0, score
    assert (reports / f"{A}-05-backup-restore" / "report.xml").exists()
    verify = subprocess.run([sys.executable, "-m", "dselab", "gradebook", str(reports), "--out", str(work / "v.csv"),
                             "--key-file", str(room["key"])], capture_output=True, text=True)
    assert verify.returncode == 0 and "2 valid, 0 flagged" in verify.stdout, verify.stdout + verify.stderr


def test_every_step_of_lab_05_passes_in_a_seat_typed_verbatim(room: dict) -> None:
    """The module's commands work as typed in a seat's shell (file copies, sstableloader, answers
    through ./scripts/answer.sh) on small-profile nodes, and the server's checks pass them."""
    lab = get_lab("05")
    variables = version_vars(distribution.wanted_version(), "local")
    for step in lab.steps[1:]:  # step 1 was done above
        for command in step.solution:
            done = as_seat(A, render_text(command, variables))
            assert done.returncode == 0, (step.id, command, done.stderr[-800:])
        check = classroom("check", A, "05", step.id)
        assert check.returncode == 0, (step.id, check.stdout, check.stderr)


def test_down_purge_leaves_no_user_process_namespace_or_folder(room: dict) -> None:
    a, b = room["a"], room["b"]
    builder = seat_template.builder(room["layout"])
    uids = [pwd.getpwnam(s.user).pw_uid for s in (a, b)]
    stopped = classroom("down")
    assert stopped.returncode == 0 and not seats.node_processes(a), stopped.stderr
    purged = classroom("down", "--purge")
    assert purged.returncode == 0, purged.stderr
    for seat in (a, b):
        with pytest.raises(KeyError):
            pwd.getpwnam(seat.user)
        assert not namespaces.exists(seat.netns)
    if room["layout"].shared_template:  # the next class finds it (the trust room's purge removes it)
        assert f"the seats' cluster template is kept in {room['layout'].builder_home}" in purged.stderr
        assert pwd.getpwnam(builder.user) and not namespaces.exists(builder.netns)
        assert next(room["layout"].templates.glob("*/manifest.json"), None) is not None
    else:  # a classroom's own template builder goes with the seats
        with pytest.raises(KeyError):
            pwd.getpwnam(builder.user)
    leftovers = subprocess.run(["ps", "-o", "pid=", "-u", ",".join(map(str, uids))], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
    assert not ROOT.exists()
    assert not [p for p in Path("/tmp").glob("*") if p.lstat().st_uid in uids]
