"""The one line that says why a command failed, for one-line error messages.

nodetool prints `error: <why>`, then `-- StackTrace --` and Java frames; Maven prints `[ERROR] ...`;
dselab's own scripts print `dselab: error: ...`. The last line of such output is a stack frame
(`at java.base/java.lang.Thread.run(Thread.java:840)`), which says nothing. So: the first line
that announces an error, else the last line that is not part of a stack trace.
"""

from __future__ import annotations

import re

ERROR_LINE = re.compile(r"^(?:[\w.-]+: )?(?:error|ERROR|Error): \S|^\[ERROR\] \S")
STACK_LINE = re.compile(
    r"^(?:at [\w$.<>/-]+\(.*\)|\.\.\. \d+ (?:more|common frames omitted)|-- StackTrace --"
    r'|Traceback \(most recent call last\):|File ".*", line \d+.*)$'
)
MAX_CHARS = 300


def reason_line(*outputs: str) -> str:
    """The line of a failed command's output that says what went wrong. Give stderr first, then
    stdout: an error line in either wins; else the last non-stack line of the first with text."""
    lines_of = [[ln.strip() for ln in (out or "").splitlines() if ln.strip()] for out in outputs]
    for lines in lines_of:
        for line in lines:
            if ERROR_LINE.match(line):
                return _short(line)
    for lines in lines_of:
        plain = [ln for ln in lines if not STACK_LINE.match(ln)]
        if plain:
            return _short(plain[-1])
    return "(no output)"


def _short(line: str) -> str:
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 3] + "..."
