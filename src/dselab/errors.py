"""User-facing errors and the one exit-code policy.

Anything a user can cause (bad ids, a cluster that is down, a missing Java) is raised as a
`DselabError` with a message and, where we know it, the fix. The CLI prints it on one line
and exits with `code`; nothing else turns into a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


class DselabError(Exception):
    """An error the user can act on. `fix` says what to do about it."""

    code = EXIT_USAGE

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def one_line(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message


class UsageError(DselabError):
    """Wrong ids, bad arguments, unsafe input."""


class EnvironmentProblem(DselabError):
    """The machine or the cluster is not in a state we can work with."""


class ClusterDown(EnvironmentProblem):
    """No node of the lab cluster answers."""


class NodeTimeout(EnvironmentProblem):
    """A node did not reach the expected state in time. The message names only the node, what was
    awaited and how long: a node's log is a file its owner controls (a classroom seat), so its tail
    rides on `log_tail`, for a check's evidence and a local user's terminal, never in the message."""

    def __init__(self, node: str, waited_s: float, what: str, log_tail: str) -> None:
        super().__init__(f"{node}: {what} did not happen within {waited_s:.0f}s",
                         fix=f"see the node's log with `dselab logs {node}`")
        self.node = node
        self.log_tail = log_tail


class UnreadableOutput(EnvironmentProblem):
    """A tool printed something in a form dselab does not read (docs/versions.md lists the forms)."""
