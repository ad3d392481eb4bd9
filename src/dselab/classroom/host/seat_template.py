"""The seats' cluster template: made once per classroom by a user of its own, copied by every seat.

Every seat's cluster has the same addresses (each in its own namespace), node profile and data, so
one template serves them all. It is made by the template builder (`dst-<hash of the root>`: no seat,
no secret, no privilege), in a namespace of its own, by `dselab template build`: the long way
once, drained, kept, and no cluster left running. The builder owns `<root>/template/templates`;
seats read it (0755) and copy from it (runtime/template.py: never a hard link into another user's
file), verifying the manifest first. Root only creates the builder's user, home and namespace and
runs the command: it never opens what the builder wrote. A template that cannot be made is no
failure of the class: seats then make their clusters the long way.

DSELAB_CLASSROOM_TEMPLATES puts the builder's home outside the root, shared by every classroom that
names it: the next class on the server finds the template made and its seats start at once. The
builder is then one per folder, not per classroom, and a classroom's purge leaves it (`--templates`
removes it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from dselab.classroom.host import limits, namespaces, seats, users
from dselab.classroom.host.toolchain import Toolchain
from dselab.classroom.layout import Layout, check_traversable
from dselab.classroom.registry import Seat
from dselab.errors import DselabError

Lines = Callable[[str], None]
BUILDER_ID = "template-builder"  # its DSELAB_SEAT: what its own dselab says it is
BUILD_TIMEOUT_S = 900


def builder(layout: Layout) -> seats.HostSeat:
    """The builder as a host seat (user, namespace, home), so it runs commands as seats do."""
    user = users.builder_name(layout.builder_home)
    return seats.HostSeat(seat=Seat(BUILDER_ID, layout.builder_home / "no-store"), user=user,
                          netns=namespaces.netns_name(user), home=layout.builder_home)


def ensure(layout: Layout, toolchain: Toolchain, say: Lines) -> bool:
    """The template there and intact (made if not); False when it could not be (said why)."""
    if toolchain.templates is None:
        say("template: off (the server runs with DSELAB_TEMPLATE=0): seats make their clusters the long way")
        return False
    maker = builder(layout)
    try:
        check_traversable(maker.home.parent)  # seats pass through it to the templates (made if missing)
        entry = users.create_builder(maker.user, maker.home)
        for folder in (maker.home, toolchain.templates):
            folder.mkdir(mode=0o755, exist_ok=True)
            if folder.is_symlink() or not folder.is_dir():
                raise DselabError(f"{folder} is not a folder")
            os.chown(folder, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
            os.chmod(folder, 0o755, follow_symlinks=False)
        namespaces.create(maker.netns)
        code, output = seats.run_as_seat(maker, toolchain, ["dselab", "template", "build"],
                                         lambda line: say(f"template: {line.strip()}"), timeout=BUILD_TIMEOUT_S)
        if code != 0:
            last = [ln for ln in output.splitlines() if ln.strip()][-1:] or ["(no output)"]
            raise DselabError(f"`dselab template build` failed (exit {code}): {last[0]}")
        return True
    except DselabError as err:
        say(f"template: not made ({err.one_line()}); seats make their clusters the long way")
        return False
    finally:
        seats.kill_user_processes(maker, maker.user, 30)  # a build that failed may leave nodes behind
        limits.remove(maker.user, settings=layout.settings)
        namespaces.remove(maker.netns)


def remove(layout: Layout) -> None:
    """The builder's processes, namespace and user; its home goes with the classroom's root, or here
    when it is shared (renamed first: gone at once for a seat reading it, which then takes the long way)."""
    maker = builder(layout)
    seats.kill_user_processes(maker, maker.user, 30, reaped=True)  # its user is deleted next
    limits.remove(maker.user, settings=layout.settings)
    namespaces.remove(maker.netns)
    users.remove_builder(maker.user)
    if layout.shared_template and maker.home.is_dir() and not maker.home.is_symlink():
        trash = maker.home.with_name(f"{maker.home.name}.trash-{os.getpid()}")
        maker.home.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
