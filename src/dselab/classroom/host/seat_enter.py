"""The seat wrapper: put this process under the seat's limits, then exec the seat's command.

    python -I -m dselab.classroom.host.seat_enter --user U --memory BYTES --procs N --cpu-weight W
                                             [--no-cgroups] -- ip netns exec NS runuser -u U -- ...

Run by root before entering the seat's namespace (`ip netns exec` mounts a /sys of its own, with
no cgroups below it); classroom.host.limits.wrap builds the line. It creates or
refreshes the seat's cgroups below the server's own (classroom.host.cgroups), moves itself into them,
sets RLIMIT_NPROC (the seat user's processes and threads, machine-wide), and execs the rest,
which drops to the seat user. Everything it starts is born inside. Refuses to run the command when
the host offers cgroups and they cannot be joined (exit 125): a seat never runs unbounded by mistake.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys

from dselab.classroom.host import cgroups

EXIT_CANNOT = 125  # like env(1) and timeout(1) when the command itself never ran


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        raise SystemExit("seat_enter: give the command after --")
    cut = argv.index("--")
    parser = argparse.ArgumentParser(prog="seat_enter")
    parser.add_argument("--user", required=True)
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--procs", type=int, required=True)
    parser.add_argument("--cpu-weight", type=int, required=True)
    parser.add_argument("--no-cgroups", action="store_true")
    return parser.parse_args(argv[:cut]), argv[cut + 1:]


def enter(opts: argparse.Namespace, host: cgroups.Host | None = None) -> list[str]:
    """Apply the limits to this process; the cgroup folders joined."""
    joined = []
    if not opts.no_cgroups:
        settings = cgroups.Settings(opts.memory, opts.procs, opts.cpu_weight)
        found = cgroups.bases(host or cgroups.Host.read())
        if not found:
            raise OSError("no writable cgroup here, though the server found some")
        for base in found:
            folder = cgroups.ensure(base, opts.user, settings)
            cgroups.join(folder)
            joined.append(str(folder))
    resource.setrlimit(resource.RLIMIT_NPROC, (opts.procs, opts.procs))
    return joined


def main(argv: list[str] | None = None) -> int:
    opts, command = parse(list(sys.argv[1:] if argv is None else argv))
    if not command:
        raise SystemExit("seat_enter: no command after --")
    try:
        enter(opts)
    except (OSError, ValueError) as err:
        print(f"dselab: cannot put seat {opts.user} under its limits: {err}", file=sys.stderr)
        return EXIT_CANNOT
    try:
        os.execvp(command[0], command)
    except OSError as err:
        print(f"dselab: cannot run {command[0]}: {err}", file=sys.stderr)
    return EXIT_CANNOT


if __name__ == "__main__":
    sys.exit(main())
