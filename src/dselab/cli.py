"""The `dselab` command: parse, call one plain function, print, map errors to exit codes.

Exit codes: 0 ok, 1 a check failed, 2 usage or environment error. A DselabError becomes one
line on stderr (a node timeout adds the node's log tail below it); nothing a user can cause ends
in a traceback.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from dselab import paths, service
from dselab.cli_context import loaded_settings
from dselab.errors import EXIT_CHECK_FAILED, EXIT_USAGE, DselabError, UsageError
from dselab.nodetool_args import validate as validate_nodetool_args
from dselab.outcomes import CheckStatus
from dselab.progress import Console
from dselab.runtime.base import SEED
from dselab.settings import RUNTIME, TEMPLATE, current

# Commands that live in their own modules (web lab, grading, classroom), imported when one of them
# runs or is listed: a check or a status need not import the web server (a third of dselab's start-up).
LAZY_COMMANDS = {
    "show": "dselab.cli_web", "build-site": "dselab.cli_web", "serve": "dselab.cli_web",
    "grade": "dselab.cli_grading", "gradebook": "dselab.cli_grading", "keygen": "dselab.cli_grading",
    "classroom": "dselab.cli_classroom",
}


class FriendlyGroup(click.Group):
    """Every command, nested or registered from another module, reports a DselabError as one
    line and exits with its code (2); Ctrl-C ends with a short note instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DselabError as err:
            click.echo(f"dselab: error: {err.one_line()}", err=True)
            tail = getattr(err, "log_tail", "")  # a NodeTimeout: this user's own node's log
            if tail:
                click.echo("last log lines:\n" + "\n".join(f"  {line}" for line in tail.splitlines()), err=True)
            ctx.exit(err.code)
        except KeyboardInterrupt:
            click.echo("dselab: interrupted", err=True)
            ctx.exit(130)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            load_command_module(LAZY_COMMANDS[cmd_name], self)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list with each summary's whole first sentence (click cuts at ~45 chars)."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.short_help or " ".join((cmd.help or "").split("\n\n")[0].split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def load_command_module(name: str, group: click.Group) -> None:
    """Register the commands of one command module. They are part of dselab, not optional: one
    that cannot be imported is a broken install, said in one line instead of a command that
    silently goes missing."""
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        click.echo(f"dselab: error: cannot load the command module {name}: {type(err).__name__}: {err} "
                   "(the installation is broken: reinstall dselab, e.g. `make setup`)", err=True)
        raise SystemExit(EXIT_USAGE) from None
    module.register(group)


def workspace(progress: bool = True) -> service.Workspace:
    return service.open_workspace(progress=Console() if progress else None, settings=loaded_settings())


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--runtime", type=click.Choice(["local", "docker"]), default=None,
              help="Where the cluster runs: local processes (default) or Docker Compose. "
                   f"Also {RUNTIME}.")
@click.pass_context
def main(ctx: click.Context, runtime: str | None) -> None:
    """dselab: hands-on Cassandra / DSE operations labs with live checks.

    \b
    Typical flow for a student:
      dselab start 05          bring the cluster up and open lab 05 (Backup & Restore)
      dselab show 05 1         read step 1
      ./scripts/nodetool.sh snapshot training -t lab_backup
      dselab check 05 1        confirm the live cluster state
    """
    loaded = current()  # the one read of the environment; every command below gets this value
    ctx.obj = loaded.replace(runtime=runtime) if runtime else loaded


# -- cluster -----------------------------------------------------------------------------------


@main.command()
@click.option("--fresh", is_flag=True,
              help="A new cluster is made the long way (data loaded, dse-node-2 bootstraps), not from the "
                   f"cluster template kept in the cache. Also {TEMPLATE}=0.")
def up(fresh: bool) -> None:
    """Start the three-node lab cluster (first time: fetch Cassandra, load the training data)."""
    from dselab import cluster

    ws = workspace()
    cluster.bring_up(ws.runtime, ws.store, Console(), fresh=fresh)
    _print_status(ws, as_json=False)


@main.group()
def template() -> None:
    """The cluster template: the ready lab cluster kept once per machine, which every later fresh
    `up` copies instead of starting nodes one by one and loading the data again."""


@template.command("build")
def template_build() -> None:
    """Make the cluster template now if it is missing or was changed (a first `up` makes it too).
    It takes the time of one first `up`; no cluster is left running. A classroom makes its seats'
    template this way, as a user of its own."""
    from dselab import cluster

    ws = workspace()
    click.echo(cluster.build_template(ws.runtime, Console()))


@main.command()
@click.option("--purge", is_flag=True, help="Also delete the nodes' data for a fresh start.")
def down(purge: bool) -> None:
    """Stop the lab cluster, keeping its data (unless --purge)."""
    ws = workspace()
    if purge:
        service.remove_clusters(ws, Console())
    else:
        ws.runtime.down()
    click.echo("cluster stopped" + (" and removed" if purge else " (data kept)"))


def _print_status(ws: service.Workspace, as_json: bool) -> None:
    rows = ws.runtime.status()
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2, default=str))
        return
    click.echo(f"{'NODE':<12} {'ADDRESS':<14} {'STATE':<6} {'VERSION':<9} DATA DIRECTORY")
    for r in rows:
        click.echo(f"{r.name:<12} {r.address:<14} {r.state:<6} {r.version:<9} {r.data_dir}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Show each node: name, address, state (UN/DN), Cassandra version, data directory."""
    _print_status(workspace(progress=False), as_json)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--node", default=SEED, show_default=True, help="Node to run nodetool on.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def nodetool(node: str, args: tuple[str, ...]) -> None:
    """Run nodetool ARGS on a node, e.g. `dselab nodetool snapshot training -t lab_backup`."""
    validate_nodetool_args(args)  # the warm fast path (dselab.entry) checks the same
    ws = workspace(progress=False)
    result = service.student_nodetool(ws, node, list(args))
    click.echo(result.stdout, nl=False)
    click.echo(result.stderr, nl=False, err=True)
    sys.exit(result.returncode)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--node", default=SEED, show_default=True, help="Node whose CQL port to use.")
@click.option("--cluster", "which", type=click.Choice(["lab", "restore"]), default="lab",
              help="The lab cluster or the separate restore cluster.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cqlsh(node: str, which: str, args: tuple[str, ...]) -> None:
    """Open cqlsh on a node (ARGS go to cqlsh, e.g. -e "SELECT ...")."""
    ws = workspace(progress=False)
    runtime = ws.runtime
    if which == "restore":
        runtime = ws.runtime.for_cluster("restore")
        node = runtime.node_names()[0]
    argv = runtime.cqlsh_argv(node, list(args))
    os.execvp(argv[0], argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("node")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sstableloader(node: str, args: tuple[str, ...]) -> None:
    """Run sstableloader next to NODE; relative paths are inside that node's data directory.

    A `-d` value that names a node (dse-restore) is replaced by its address.
    """
    from dselab.restore_tools import run_sstableloader

    ws = workspace(progress=False)
    result = run_sstableloader(ws, node, list(args))
    click.echo(result.stdout, nl=False)
    click.echo(result.stderr, nl=False, err=True)
    sys.exit(result.returncode)


@main.group()
def node() -> None:
    """Stop, start or run a command on one node."""


@node.command("stop")
@click.argument("name")
def node_stop(name: str) -> None:
    """Stop one node (its data is kept)."""
    workspace().runtime.stop_node(name)


@node.command("start")
@click.argument("name")
def node_start(name: str) -> None:
    """Start one node and wait until it serves CQL."""
    workspace().runtime.start_node(name)


@node.command("exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("name")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def node_exec(name: str, argv: tuple[str, ...]) -> None:
    """Run a command in NODE's data directory (on the node, for Docker), e.g. `ls training`."""
    from dselab.restore_tools import node_exec as run

    result = run(workspace(progress=False), name, list(argv))
    click.echo(result.stdout, nl=False)
    click.echo(result.stderr, nl=False, err=True)
    sys.exit(result.returncode)


@main.command()
@click.argument("node_name", metavar="NODE")
@click.option("-n", "--lines", default=50, show_default=True, type=click.IntRange(0),
              help="How many of the last lines (0: all).")
@click.option("--since-lab", is_flag=True, help="Only what the node logged since `dselab start` marked it.")
def logs(node_name: str, lines: int, since_lab: bool) -> None:
    """Show NODE's system log (its last lines), like `ccm node showlog`."""
    from dselab.node_logs import node_log

    shown = node_log(workspace(progress=False), node_name, lines, since_lab)
    if not shown:
        click.echo(f"{node_name} has logged nothing{' since the lab started' if since_lab else ' yet'}", err=True)
    for line in shown:
        click.echo(line)


@main.group("restore-cluster")
def restore_cluster() -> None:
    """The separate one-node cluster that sstableloader restores into."""


@restore_cluster.command("up")
def restore_up() -> None:
    """Start the restore cluster (empty, its own cluster name)."""
    ws = workspace(progress=False)
    rt = ws.runtime.for_cluster("restore", Console())
    rt.up()
    click.echo(f"restore cluster up: {', '.join(rt.node_names())}")


@restore_cluster.command("down")
@click.option("--purge", is_flag=True, help="Also delete its data.")
def restore_down(purge: bool) -> None:
    """Stop the restore cluster."""
    workspace(progress=False).runtime.for_cluster("restore", Console()).down(purge=purge)


# -- labs --------------------------------------------------------------------------------------


def print_results(results: list[Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return
    marks = {CheckStatus.PASS: click.style("PASS", fg="green"), CheckStatus.FAIL: click.style("FAIL", fg="red"),
             CheckStatus.ERROR: click.style("ERROR", fg="yellow")}
    for r in results:
        click.echo(f"{marks[r.status]}  step {r.number} ({r.step}): {r.message}")
        if r.hint and not r.passed:
            click.echo(f"       hint: {r.hint}")
    passed = sum(r.passed for r in results)
    click.echo(f"{passed} passed, {len(results) - passed} failed")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def init(folder: Path) -> None:
    """Make a lab folder: scripts/, the labs' data files and a README (never overwrites)."""
    from dselab.lab_folder import init_folder

    written = init_folder(folder)
    click.echo(f"wrote {len(written)} files to {folder}; run the labs' commands from there:\n"
               f"  cd {folder} && dselab start 05")


@main.command()
@click.argument("lab")
def start(lab: str) -> None:
    """Bring the cluster up if needed, record the lab's baseline, show step 1."""
    from dselab import catalogue

    ws = workspace()
    opened = service.start_lab(ws, catalogue.default().lab(lab), Console())
    click.echo(f"lab {opened.number} ({opened.title}) started; {len(opened.steps)} steps.")
    from dselab.render import render_step_terminal  # lazy: most commands need no Markdown

    click.echo(render_step_terminal(opened, opened.steps[0], service.template_vars(ws)))
    from dselab.lab_folder import typed_command

    click.echo(f"\nIn a browser, with Check buttons: {typed_command()} serve, then open "
               f"http://127.0.0.1:{paths.WEB_PORT}/labs/{opened.number}/1")


@main.command()
@click.argument("lab")
@click.argument("steps", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="JSON: id, number, status, message, hint per step.")
def check(lab: str, steps: tuple[str, ...], as_json: bool) -> None:
    """Check the live cluster for STEPS of LAB (all steps when none are named).

    Exit 0 when every named check passes, 1 when any fails, 2 on a usage or environment error.
    """
    from dselab import catalogue

    the_lab = catalogue.default().lab(lab)
    the_lab.select(list(steps))  # validate ids before touching the cluster
    results = service.check(workspace(progress=False), the_lab, steps)
    print_results(results, as_json)
    if len(results) == 1 and results[0].status == "error":  # environment problem, not a failed check
        sys.exit(EXIT_USAGE)
    sys.exit(0 if all(r.passed for r in results) else EXIT_CHECK_FAILED)


@main.command()
@click.argument("lab")
@click.argument("steps", nargs=-1)
def solve(lab: str, steps: tuple[str, ...]) -> None:
    """Carry out STEPS with the reference solution (what a student would type).

    With no STEPS, resume: solve from the first step not passed in this lab run to the end.
    Each step is checked after its solution; the run stops at one whose check fails (exit 1).
    """
    from dselab import catalogue

    the_lab = catalogue.default().lab(lab)
    the_lab.select(list(steps))  # validate ids before touching the cluster
    run = service.solve(workspace(), the_lab, steps, Console(), check=True)
    if run.skipped:
        click.echo("skipped (passed in this lab run): "
                   + ", ".join(f"{s.number} ({s.id})" for s in run.skipped))
    if not run.solved:
        click.echo(f"every step of lab {lab} passed in this lab run; nothing to solve "
                   f"(name steps to solve them again, e.g. `dselab solve {lab} 1`)")
        return
    print_results(run.checks, as_json=False)
    sys.exit(0 if run.ok else EXIT_CHECK_FAILED)


@main.command()
@click.argument("lab")
@click.argument("step")
@click.argument("value")
def answer(lab: str, step: str, value: str) -> None:
    """Give the answer to a read-only step's question, e.g. `dselab answer 05 2 "143.08 KiB"`."""
    from dselab import catalogue

    the_lab = catalogue.default().lab(lab)
    answered = service.record_answer(workspace(progress=False), the_lab, the_lab.step(step), value)
    click.echo(f"answer for step {answered.number} ({answered.id}) recorded; check it with "
               f"`dselab check {lab} {answered.number}`")


@main.command("test")
@click.argument("lab", required=False)
@click.option("--all", "all_labs", is_flag=True, help="Run the lab self-test for every lab.")
@click.option("--keep", is_flag=True, help="Leave the cluster running afterwards.")
@click.option("--running", is_flag=True,
              help="Use the running cluster as it is: no purge first, no teardown (a lab author trying new checks).")
def test_cmd(lab: str | None, all_labs: bool, keep: bool, running: bool) -> None:
    """The CI lab self-test: fresh cluster; per step check FAILS, solve, check PASSES; teardown."""
    from dselab import catalogue
    from dselab.lab_selftest import run_selftest

    if not lab and not all_labs:
        raise UsageError("name a lab (e.g. `dselab test 05`) or use --all")
    content = catalogue.default()
    labs = list(content.labs) if all_labs else [content.lab(lab or "")]
    ws = workspace()
    if all_labs:  # a lab named alone on another runtime is refused by run_selftest, in one line
        for other in [one for one in labs if ws.runtime_name not in one.runtimes]:
            click.echo(f"lab {other.number}: skipped (it runs on the {' or '.join(other.runtimes)} runtime only)")
            labs.remove(other)
    ok = True
    for one in labs:
        report = run_selftest(ws, one, Console(), keep=keep or running, fresh=not running)
        for line in report.lines():
            click.echo(line)
        ok = ok and report.ok
    sys.exit(0 if ok else EXIT_CHECK_FAILED)

