"""A snapshot that must be on every node: listed by nodetool, whole on disk, and (when a later
write is known) taken before it."""

from __future__ import annotations

from dselab import environment
from dselab.check_engine import CheckContext
from dselab.check_helpers.disk import HashBudget, manifest_mtime, snapshot_problem, table_folders
from dselab.nodetool_output import parse_listsnapshots
from dselab.runtime.base import LAB_NODES

KS = environment.KEYSPACE


def everywhere_problems(ctx: CheckContext, tag: str, before_us: int | None = None,
                        before_what: str = "") -> list[str]:
    """Why `tag` is not a whole nodetool snapshot of the training tables on every node, taken
    before the write at `before_us` (microseconds; `before_what` names it), when given."""
    problems = []
    for node, result in ctx.nodetool_all(LAB_NODES, "listsnapshots").items():
        listed = {r.table for r in parse_listsnapshots(result.stdout) if r.tag == tag and r.keyspace == KS}
        if not set(environment.TABLES) <= listed:
            problems.append(f"no snapshot {tag} of {KS} on {node}")
            continue
        budget = HashBudget()
        for folder in table_folders(ctx, node, KS).values():
            problem = snapshot_problem(ctx, node, folder, tag, budget)
            made = manifest_mtime(folder, tag)
            if not problem and before_us is not None and made is not None and made * 1e6 > before_us:
                problem = f"{tag} of {KS}.{folder.table} on {node} was taken after {before_what}"
            if problem:
                problems.append(problem)
    return problems
