"""The instructor's commands: grade, gradebook, keygen. Thin: parse, call grading, print.

Bad input raises UsageError; the main CLI turns every DselabError into one line and exit 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from dselab import service
from dselab.catalogue import get_lab
from dselab.cli_context import loaded_settings
from dselab.errors import EXIT_CHECK_FAILED
from dselab.grading.gradebook import gradebook
from dselab.grading.gradebook_files import check_gradebook_out, write_gradebook
from dselab.grading.keys import KEY_ENV, keygen, load_key
from dselab.grading.report import check_student
from dselab.grading.report_files import write_report
from dselab.grading.report_input import shown
from dselab.grading.run import grade

KEY_FILE_HELP = f"course key file (default: ${KEY_ENV}; without a key the report is unsigned)"


def register(group: click.Group) -> None:
    for command in (grade_command, gradebook_command, keygen_command):
        group.add_command(command)


@click.command("grade")
@click.argument("lab")
@click.option("--student", required=True, help="student id: 1-64 of A-Z a-z 0-9 . _ -")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="report folder (default: ./grades/<student>-<lab>/)")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), help=KEY_FILE_HELP)
def grade_command(lab: str, student: str, out_dir: Path | None, key_file: Path | None) -> None:
    """Run every check of LAB and write a signed report (JSON, JUnit XML, HTML)."""
    check_student(student)
    settings = loaded_settings()
    key = load_key(key_file, settings)
    the_lab = get_lab(lab)
    ws = service.open_workspace(settings=settings)
    try:
        report = grade(ws, the_lab, student, key=key)
    finally:
        ws.close()
    written = write_report(report, out_dir or Path("grades") / f"{student}-{the_lab.id}")
    click.echo(f"{student}: {report.score}/{report.max_score} points on lab {the_lab.number} "
               f"({the_lab.title})")
    for step in report.steps:
        credit = " (passed earlier)" if step.counted_from == "history" else ""
        click.echo(f"  {step.number:>2} {step.id:<24} {step.status:<5} "
                   f"{step.points}/{step.max_points}{credit}")
    if not report.signature:
        click.echo(f"warning: report is unsigned (no --key-file and no ${KEY_ENV})", err=True)
    for path in written:
        click.echo(f"wrote {path}")


@click.command("gradebook")
@click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="gradebook file: .csv or .html")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), help=KEY_FILE_HELP)
@click.pass_context
def gradebook_command(ctx: click.Context, reports: tuple[Path, ...], out_file: Path,
                      key_file: Path | None) -> None:
    """Verify report.json files (or folders of them) and write a gradebook; exit 1 if any is flagged."""
    check_gradebook_out(out_file)
    key = load_key(key_file, loaded_settings())
    book = gradebook(list(reports), key)
    write_gradebook(book, out_file)
    for check in book.checked:
        if check.flagged or "not UTF-8" in check.detail:
            click.echo(f"{'flagged ' + check.verdict if check.flagged else 'note'}: {check.shown_path}: {check.detail}")
    click.echo(f"{len(book.valid)} valid, {len(book.flagged)} flagged of {len(book.checked)} report(s); "
               f"wrote {shown(out_file)}")
    if book.flagged:
        ctx.exit(EXIT_CHECK_FAILED)


@click.command("keygen")
@click.option("--out", "out_path", default=Path("course.key"), show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="where to write the key")
def keygen_command(out_path: Path) -> None:
    """Create a course key for signing reports (mode 0600; never overwrites)."""
    path = keygen(out_path)
    click.echo(f"wrote {path} (mode 0600); keep it from students and out of version control")
