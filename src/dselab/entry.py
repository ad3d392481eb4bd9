"""The `dselab` command's entry: `dselab nodetool ...` answered by the cluster's warm nodetool
server without loading the CLI (about a second of imports on a small machine); everything else,
and every nodetool call the warm server does not answer, goes to dselab.cli unchanged.

The fast path serves only when it can print what the CLI would: the local runtime, the warm server
on, no tools config (runtime/nodetool_server.py says why), arguments the CLI accepts, the node
running, and a reply from the server of the client chosen for the scripts (nodetool_choice: the
nodes' own, or the 3.11 client's server, whose stderr is filtered as the CLI filters a cold run's).
It prints the reply as the CLI prints a CommandResult (the text a child process's output decodes
to) and exits with nodetool's code. Anything else (a bad
argument, a node down, no server yet, --help) is the CLI's to run or to report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from dselab.runtime.base import COMMAND_TIMEOUT_S, SEED


def _parse(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """`nodetool [--node N | --node=N] [--] ARGS` as the CLI reads it; None for anything else."""
    rest = list(argv)
    node = SEED
    if rest[:1] == ["--node"] and len(rest) >= 2:
        node, rest = rest[1], rest[2:]
    elif rest and rest[0].startswith("--node="):
        node, rest = rest[0].split("=", 1)[1], rest[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    elif rest and rest[0].startswith("-"):
        return None  # an option of the CLI's (--help): click reads it
    return node, rest


def fast_nodetool(argv: Sequence[str]) -> int | None:
    """nodetool's exit code after printing the warm server's answer; None: not served here."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    node, args = parsed
    from dselab.errors import DselabError
    from dselab.settings import Settings

    try:
        config = Settings.from_env(os.environ)
        if config.runtime != "local" or not config.warm_nodetool or config.tools_conf is not None:
            return None
        from dselab import nodetool_choice
        from dselab.nodetool_args import validate
        from dselab.runtime import legacy_nodetool, nodetool_server
        from dselab.runtime.local import LocalRuntime

        legacy = nodetool_choice.chosen_here(config) == legacy_nodetool.CLIENT
        validate(args)
        runtime = LocalRuntime("lab", config=config)
        if node not in runtime.specs or not runtime.is_running(node):
            return None
        spec = runtime.spec(node)
        try:
            reply = nodetool_server.run(runtime.warm_nodetool_place(legacy_nodetool.CLIENT if legacy else None),
                                        ["-h", "127.0.0.1", "-p", str(spec.jmx_port), *args], COMMAND_TIMEOUT_S)
        except nodetool_server.TimedOut:  # ran, and too long: the CLI's timeout error, not a second run
            err = runtime.timeout_error(node, COMMAND_TIMEOUT_S, f"`nodetool {' '.join(args)}`")
            sys.stderr.write(f"dselab: error: {err.one_line()}\n")
            return err.code
    except DselabError:
        return None
    if reply is None:
        return None
    sys.stdout.write(nodetool_server.as_text(reply.stdout))
    sys.stdout.flush()
    stderr = nodetool_server.as_text(reply.stderr)
    sys.stderr.write(legacy_nodetool.without_unmmaper_trace(stderr) if legacy else stderr)
    sys.stderr.flush()
    return reply.returncode


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "nodetool":
        code = fast_nodetool(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    from dselab.cli import main as cli_main

    cli_main()
