"""The classroom runs as root: it creates Unix users and network namespaces, and keeps grades
where no seat can write. Anything else is refused before a single side effect."""

from __future__ import annotations

import os
import shutil

from dselab.errors import EnvironmentProblem

NEEDED = ("ip", "useradd", "userdel", "runuser")


def require_root() -> None:
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            "dselab classroom must run as root: it creates a Unix user and a network namespace per seat "
            "and keeps grades where no seat can write", fix="run it with sudo on the class server")
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        raise EnvironmentProblem(f"missing system tools: {', '.join(missing)}",
                                 fix="install iproute2, passwd and util-linux")
