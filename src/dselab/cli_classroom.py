"""`dselab classroom`: the instructor's commands for seats on one server (run as root).

Thin: parse, call one function of dselab.classroom, print. Errors are DselabErrors, which the
main CLI turns into one line and exit 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dselab.catalogue import DEFAULT_LAB
from dselab.cli_context import loaded_settings
from dselab.errors import EXIT_CHECK_FAILED, EXIT_USAGE, UsageError
from dselab.outcomes import CheckStatus

if TYPE_CHECKING:
    from dselab.classroom.backend import SeatBackend
    from dselab.classroom.layout import Layout
    from dselab.classroom.lifecycle import SeatOutcome
    from dselab.classroom.web.join_links import Issued

DEFAULT_PORT = 8055
KEY_HELP = "course key file (kept on the server, mode 0600; reports are signed with it)"


def _layout() -> Layout:
    """The classroom's layout, from the settings the CLI loaded (its knobs travel with it)."""
    from dselab.classroom.layout import Layout

    return Layout.current(loaded_settings())


def _backend() -> SeatBackend:
    """Where the classroom's seats live (the host's backend), over the CLI's layout: chosen once per command."""
    from dselab.classroom.backends import open_backend


    return open_backend(_layout())


def _say(line: str) -> None:
    click.echo(line, err=True)


def _finish(outcomes: list[SeatOutcome]) -> None:
    failed = [o for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(failed)} of {len(outcomes)} seat(s) ok"
               + (f"; failed: {', '.join(o.seat for o in failed)}" if failed else ""))
    if failed:
        sys.exit(EXIT_USAGE)


@click.group("classroom")
def classroom() -> None:
    """Seats on this server for a whole class: a Unix user, a network namespace and a cluster each;
    checks and grades kept where no student can write (run as root)."""


@classroom.command("up")
@click.option("--seats", "count", type=int, help="number of seats: seat01, seat02, ...")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), help="one student id per line")
@click.option("--key-file", help=KEY_HELP)
@click.option("--lab", default=DEFAULT_LAB, show_default=True, help="the lab every seat starts")
def up_command(count: int | None, roster: Path | None, key_file: str | None, lab: str) -> None:
    """Create and start every seat that is missing (checks memory first); running seats are left alone."""
    from dselab.classroom import lifecycle
    from dselab.classroom import roster as rosters

    backend = _backend()
    backend.require()
    if count is not None and roster is not None:
        raise UsageError("give --seats or --roster, not both")
    ids = rosters.read_roster(roster) if roster else rosters.numbered_seats(count) if count is not None else None
    outcomes = lifecycle.up(ids, key_file, _say, lab, backend)
    layout = backend.layout
    if any(o.ok for o in outcomes):
        try:
            _print_links(layout, f"http://localhost:{DEFAULT_PORT}")
        except UsageError as err:  # no course key kept: the seats are up all the same
            _say(f"no join links: {err.one_line()}")
    _finish(outcomes)


def _print_links(layout: Layout, url: str) -> None:
    from dselab.classroom.web.join_links import issue

    _print_issued(issue(layout, url))


def _print_issued(issued: Issued) -> None:
    from dselab.classroom.web.expiry import shown

    if issued.rotated:
        _say(f"rotated: {', '.join(issued.rotated)} (their old links and cookies open nothing now)")
    if issued.links:
        click.echo("Join links (serve them with `dselab classroom serve`; hand each student their own):")
        for seat_id, link in issued.links.items():
            click.echo(f"  {seat_id:<20} {link}")
        if issued.expires_at is not None:
            click.echo(f"These links open seats until {shown(issued.expires_at)}; "
                       "then `dselab classroom links --expires 8h` issues fresh ones.")
    if issued.instructor_link:
        _say("rotated: the instructor's login link (the old one and its cookies open nothing now)")
        click.echo(f"Instructor (keep it to yourself): {issued.instructor_link}")


@classroom.command("links")
@click.argument("seat_ids", nargs=-1, metavar="[SEAT]...")
@click.option("--url", default=f"http://localhost:{DEFAULT_PORT}", show_default=True,
              help="the address students reach `classroom serve` at (behind a proxy: the proxy's https URL)")
@click.option("--rotate", is_flag=True,
              help="new links for the SEATs (every seat if none named): their old links, and the browser "
                   "sessions opened with them, stop working at once (a running server too)")
@click.option("--expires", metavar="WHEN",
              help="the links printed stop opening at WHEN: a duration (8h, 90m, 3d, 2w) or a time "
                   "(2030-06-01T18:00, server's local time); the sessions they open end then too")
@click.option("--rotate-instructor", is_flag=True,
              help="a new instructor login link (printed); the old one and the instructor's sessions stop working")
def links_command(seat_ids: tuple[str, ...], url: str, rotate: bool, expires: str | None,
                  rotate_instructor: bool) -> None:
    """Print the join link of every seat (or of the SEATs named). A link opens its seat until it is
    rotated or expires, and only in this classroom: after `down --purge` and a new `up` no old link
    or session works. A student whose link expired gets a fresh one from `links SEAT --expires 8h`;
    a leaked link is voided with `links --rotate SEAT`."""
    from dselab.classroom.web.join_links import issue

    backend = _backend()
    backend.require()
    _print_issued(issue(backend.layout, url.rstrip("/"), seat_ids, rotate, expires, rotate_instructor))


@classroom.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on; anything but loopback is reachable from the network")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="another name students reach the server by (e.g. behind a proxy); repeatable")
@click.option("--certfile", type=click.Path(dir_okay=False, path_type=Path), help="TLS certificate (PEM)")
@click.option("--keyfile", type=click.Path(dir_okay=False, path_type=Path), help="TLS private key (PEM)")
@click.option("--behind-proxy", is_flag=True,
              help="a TLS reverse proxy in front passes X-Forwarded-Proto and X-Forwarded-Host (trusted)")
@click.option("--lab", default=DEFAULT_LAB, show_default=True)
def serve_command(host: str, port: int, allow_hosts: tuple[str, ...], certfile: Path | None,
                  keyfile: Path | None, behind_proxy: bool, lab: str) -> None:
    """Serve every seat in the browser: its join link opens the lab's steps beside a terminal;
    the instructor's login link (printed here; `links --rotate-instructor` replaces it) opens the grid
    of students by steps."""
    from dselab.classroom.host import limits
    from dselab.classroom.web import serving
    from dselab.classroom.web.join_links import instructor_link
    from dselab.cli_web import check_port
    from dselab.resources import require_frontend

    require_frontend()  # before anything else: seat pages without their terminal are no class
    backend = _backend()
    backend.require()
    ssl = serving.tls_files(certfile, keyfile)
    warning = serving.plain_http_warning(host, ssl is not None)
    if warning:
        _say(warning)
    check_port(host, port)
    layout = backend.layout
    served = serving.make_server(host, port, allow_hosts, lab, ssl, behind_proxy=behind_proxy, backend=backend)
    click.echo(f"Classroom server at {served.url}/ (Ctrl+C to stop)")
    click.echo(f"Instructor (keep it to yourself): {instructor_link(backend.layout, served.url)}")
    click.echo("Join links: `dselab classroom links`")
    _say(limits.describe(settings=layout.settings))
    sys.stdout.flush()
    serving.run(served, _say)


@classroom.command("down")
@click.option("--purge", is_flag=True, help="remove seats, their users, namespaces and all data")
@click.option("--templates", is_flag=True,
              help="with --purge: also remove the seats' cluster template shared through DSELAB_CLASSROOM_TEMPLATES")
def down_command(purge: bool, templates: bool) -> None:
    """Stop every seat keeping its data (or remove everything with --purge)."""
    from dselab.classroom import lifecycle

    if templates and not purge:
        raise UsageError("--templates goes with --purge (a stopped class keeps its template)")
    _finish(lifecycle.down(purge, _say, _backend(), templates))


@classroom.command("reset")
@click.argument("seat")
@click.option("--lab", default=DEFAULT_LAB, show_default=True)
def reset_command(seat: str, lab: str) -> None:
    """Give SEAT a fresh cluster and a fresh lab run (its recorded attempts are cleared)."""
    from dselab.classroom import lifecycle

    lifecycle.reset(seat, _say, lab, _backend())


@classroom.command("status")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def status_command(as_json: bool) -> None:
    """Seats, their users and homes, each node's state, the steps passed per lab."""
    from dselab.classroom.status import classroom_status

    rows = classroom_status(_backend())
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    click.echo(f"{'SEAT':<20} {'USER':<24} {'NODES':<34} PASSED")
    for r in rows:
        nodes = " ".join(f"{n.replace('dse-', '')}:{s}" for n, s in r.nodes.items())
        passed = "; ".join(f"{lab}: {','.join(map(str, steps)) or '-'}" for lab, steps in r.passed.items())
        click.echo(f"{r.seat:<20} {r.user:<24} {nodes:<34} {passed or '-'}" + (f"  ({r.note})" if r.note else ""))


@classroom.command("check")
@click.argument("seat")
@click.argument("lab")
@click.argument("steps", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON: id, number, status, message, hint per step")
def check_command(seat: str, lab: str, steps: tuple[str, ...], as_json: bool) -> None:
    """Run and record SEAT's checks on the server; exit codes as `dselab check`."""
    from dselab.classroom.recording import check_seat
    from dselab.cli import print_results

    backend = _backend()
    backend.require()
    results = check_seat(seat, lab, steps, backend)
    print_results(results, as_json)
    if len(results) == 1 and results[0].status == CheckStatus.ERROR:
        sys.exit(EXIT_USAGE)
    sys.exit(0 if all(r.passed for r in results) else EXIT_CHECK_FAILED)


@classroom.command("answer")
@click.argument("seat")
@click.argument("lab")
@click.argument("step")
@click.argument("value")
def answer_command(seat: str, lab: str, step: str, value: str) -> None:
    """Record SEAT's answer to a read-only step on the server (students can also use ./scripts/answer.sh)."""
    from dselab.classroom.recording import record_answer

    backend = _backend()
    backend.require()
    done = record_answer(seat, lab, step, value, backend.layout)
    click.echo(f"answer for step {done['number']} ({done['step']}) of seat {seat} recorded")


@classroom.command("exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("seat")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_command(seat: str, argv: tuple[str, ...]) -> None:
    """Run a command as SEAT's user, in its home and namespace, with its shell's environment."""
    from dselab.classroom import registry

    backend = _backend()
    backend.require()
    the_seat = registry.get(backend.layout, seat)
    args = list(argv[1:] if argv and argv[0] == "--" else argv)
    if not args:
        raise UsageError("name a command after --, e.g. `dselab classroom exec alice -- ./scripts/nodetool.sh status`")
    spec = backend.shell(the_seat, args)
    proc = subprocess.run(list(spec.argv), cwd=spec.cwd)
    sys.exit(proc.returncode)


@classroom.command("gradebook")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="gradebook file: .csv or .html")
@click.option("--reports", "reports_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("classroom-reports"), show_default=True,
              help="folder for each student's signed report.json, report.xml, report.html")
@click.option("--lab", default=DEFAULT_LAB, show_default=True)
@click.option("--key-file", help="course key (default: the one given to `classroom up`)")
def gradebook_command(out_file: Path, reports_dir: Path, lab: str, key_file: str | None) -> None:
    """Grade every seat from the server's records, sign each report, write the gradebook."""
    from dselab.classroom.gradebook import build

    book = build(out_file, reports_dir, lab, key_file, _say, _backend())
    click.echo(f"{len(book.valid)} signed report(s) in {reports_dir}; wrote {out_file}")
    for score in sorted(book.scores, key=lambda s: -s.score):
        click.echo(f"  {score.student:<24} {score.score}/{score.max_score}")


def register(group: click.Group) -> None:
    group.add_command(classroom)
