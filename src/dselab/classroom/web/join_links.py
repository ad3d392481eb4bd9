"""The links an instructor hands out: each seat's join link and the instructor's login link, from the
course key kept on the server and the live link state (classroom.links); `classroom links` rotates
and stamps expiries here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dselab.classroom import lifecycle, registry
from dselab.classroom.layout import Layout
from dselab.classroom.web import links
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.expiry import parse_expiry
from dselab.errors import UsageError


@dataclass
class Issued:
    links: dict[str, str]  # seat id -> join link (empty when only the instructor's was asked for)
    expires_at: int | None = None
    rotated: list[str] = field(default_factory=list)
    instructor_link: str | None = None  # set after the instructor's link was rotated


def live_auth(layout: Layout) -> ClassroomAuth:
    """What the web server checks against: the kept course key and the link state as it is on disk."""
    return ClassroomAuth(lifecycle.course_key(layout, None), links.LiveLinks(layout.links_file))


def issue(layout: Layout, url: str, seat_ids: Sequence[str] = (), rotate: bool = False,
          expires: str | None = None, rotate_instructor: bool = False) -> Issued:
    """Join links for `seat_ids` (every seat if none), valid until `expires` (a duration or a time) or
    until rotated; with `rotate` those seats get new links first and their old ones open nothing;
    with `rotate_instructor` the instructor's login link is replaced likewise."""
    known = registry.load(layout)
    if not known:
        raise UsageError("the classroom has no seats", fix="run `dselab classroom up --seats N` first")
    for seat_id in seat_ids:
        registry.get(layout, seat_id)  # an unknown seat: one line naming the known ones
    wanted = list(dict.fromkeys(seat_ids)) or sorted(known)
    expires_at = parse_expiry(expires) if expires else None
    key = lifecycle.course_key(layout, None)  # every refusal before the first change
    state = links.ensure(layout, known)
    if rotate:
        state = links.rotate(layout, wanted)
    if rotate_instructor:
        state = links.rotate_instructor(layout)
    auth = ClassroomAuth(key, state)
    only_instructor = rotate_instructor and not (seat_ids or rotate or expires)
    seat_links = {} if only_instructor else {
        seat_id: f"{url}/join/{auth.join_token(seat_id, expires_at)}" for seat_id in wanted}
    return Issued(seat_links, expires_at, wanted if rotate else [],
                  instructor_login(url, auth) if rotate_instructor else None)


def join_links(layout: Layout, url: str) -> dict[str, str]:
    """seat id -> its join link without expiry (what `classroom up` prints)."""
    return issue(layout, url).links


def instructor_link(layout: Layout, url: str) -> str:
    key = lifecycle.course_key(layout, None)
    return instructor_login(url, ClassroomAuth(key, links.ensure(layout, registry.load(layout))))


def instructor_login(url: str, auth: ClassroomAuth) -> str:
    return f"{url}/instructor/login/{auth.instructor_token()}"
