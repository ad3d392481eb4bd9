"""Course key files: create one (never overwriting), read one, or take it from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dselab.errors import UsageError
from dselab.settings import COURSE_KEY as KEY_ENV
from dselab.settings import Settings, resolve

__all__ = ["KEY_ENV", "keygen", "load_key"]


def load_key(key_file: Path | None = None, settings: Settings | None = None) -> bytes | None:
    """The course key from `key_file`, else from $DSELAB_COURSE_KEY (settings.course_key), else None (unsigned)."""
    if key_file is None:
        text = (resolve(settings).course_key or "").strip()
        return text.encode() if text else None
    try:
        text = Path(key_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or "not a text file"
        raise UsageError(f"cannot read key file {key_file}: {reason}") from None
    if not text:
        raise UsageError(f"key file {key_file} is empty", fix="create one with `dselab keygen`")
    return text.encode()


def keygen(path: Path) -> Path:
    """Write a random 32-byte hex key readable by its owner only; never overwrite one."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists; refusing to overwrite a course key",
                         fix="choose another --out, or remove the old key deliberately") from None
    except OSError as err:
        raise UsageError(f"cannot create key file {path}: {err.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fd, 0o600)
        fh.write(secrets.token_hex(32) + "\n")
    return path
