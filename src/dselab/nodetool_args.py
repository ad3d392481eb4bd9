"""What `dselab nodetool` accepts as nodetool arguments (the CLI and its warm fast path share it)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dselab.errors import UsageError

# A snapshot tag or other nodetool value must be a plain word: no shell metacharacters, no paths.
SAFE_TAG = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
TAG_FLAGS = {"-t", "--tag"}


def validate(args: Sequence[str]) -> None:
    for i, arg in enumerate(args):
        tag = args[i + 1] if arg in TAG_FLAGS and i + 1 < len(args) else None
        if arg.startswith("--tag="):
            tag = arg.split("=", 1)[1]
        if tag is not None and not SAFE_TAG.match(tag):
            raise UsageError(f"snapshot tag {tag!r} is not allowed: use letters, digits, _ . - only")
        if ".." in arg or any(c in arg for c in ";|&$`<>\n"):
            raise UsageError(f"argument {arg!r} contains characters nodetool never needs (; | & $ ` < > ..)")
