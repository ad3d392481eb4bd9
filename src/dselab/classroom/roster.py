"""The class list: a roster file (one student id per line) or numbered seats; all errors at once."""

from __future__ import annotations

from pathlib import Path

from dselab.errors import UsageError
from dselab.grading.report import STUDENT_ID

MAX_SEATS = 200


def parse_roster(text: str, source: str = "roster") -> list[str]:
    """Student ids in file order. Blank lines and `#` comments are skipped; every bad line and
    every duplicate is reported, with its line number, in one error."""
    ids: list[str] = []
    first_line: dict[str, int] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not STUDENT_ID.fullmatch(line):
            problems.append(f"line {number}: {line[:70]!r} is not a student id (1-64 of A-Z a-z 0-9 . _ -)")
        elif line in first_line:
            problems.append(f"line {number}: duplicate id {line!r} (first on line {first_line[line]})")
        else:
            first_line[line] = number
            ids.append(line)
    if problems:
        raise UsageError(f"{source}: {len(problems)} bad line(s): " + "; ".join(problems))
    if not ids:
        raise UsageError(f"{source} names no student", fix="one student id per line")
    if len(ids) > MAX_SEATS:
        raise UsageError(f"{source} names {len(ids)} students; one server holds at most {MAX_SEATS} seats")
    return ids


def read_roster(path: Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read roster {path}: {getattr(err, 'strerror', None) or 'not UTF-8 text'}") from None
    return parse_roster(text, str(path))


def numbered_seats(count: int) -> list[str]:
    """`--seats N`: seat01, seat02, ..."""
    if not 1 <= count <= MAX_SEATS:
        raise UsageError(f"--seats must be 1-{MAX_SEATS}, not {count}")
    width = max(2, len(str(count)))
    return [f"seat{i:0{width}d}" for i in range(1, count + 1)]
