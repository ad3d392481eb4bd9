"""`classroom links --expires WHEN`: a duration from now (8h, 90m, 3d, 2w) or a time (ISO 8601;
without a zone it is the server's local time) -> Unix seconds."""

from __future__ import annotations

import re
import time
from datetime import datetime

from dselab.errors import UsageError

UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION = re.compile(r"(\d{1,6})\s*([mhdw])")
EXAMPLES = "e.g. --expires 8h, --expires 3d or --expires 2030-06-01T18:00"


def parse_expiry(text: str, now: float | None = None) -> int:
    """When links issued with `--expires text` stop opening, in Unix seconds (always in the future)."""
    now = time.time() if now is None else now
    spec = text.strip().lower()
    if m := DURATION.fullmatch(spec):
        at = now + int(m.group(1)) * UNIT_S[m.group(2)]
    else:
        try:
            at = datetime.fromisoformat(text.strip()).timestamp()  # naive: local time
        except ValueError:
            raise UsageError(f"--expires {text!r} is neither a duration nor a time", fix=EXAMPLES) from None
    if at <= now:
        raise UsageError(f"--expires {text!r} is not in the future", fix=EXAMPLES)
    return int(at)


def shown(at: int) -> str:
    """A time as the instructor reads it: local, to the minute, with the zone."""
    return datetime.fromtimestamp(at).astimezone().strftime("%Y-%m-%d %H:%M %Z")
