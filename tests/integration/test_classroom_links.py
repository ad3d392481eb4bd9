"""Issue 16, item 8: a leaked join link is voided by `classroom links --rotate SEAT` on a running
`classroom serve` over real seats: the old link gets 403, the session it opened ends, the new link
works, and the other seat's link and session are untouched. Root only (the shared trust room)."""

from __future__ import annotations

import os
import re
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, build_opener

import pytest
from classroom_web import classroom_serve
from trust_room import MALLORY, ROOT, VICTIM, classroom

from dselab.classroom.server import SEAT_COOKIE

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="the classroom creates users and namespaces: root only")]


class Browser:
    """A browser without JavaScript: keeps its cookies (SameSite aside) and follows redirects."""

    def __init__(self) -> None:
        self.jar = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[int, bytes]:
        try:
            with self._opener.open(url, timeout=120) as response:
                return response.status, response.read()
        except HTTPError as err:
            return err.code, err.read()

    def seat_cookie(self) -> str | None:
        return next((c.value for c in self.jar if c.name == SEAT_COOKIE), None)


def printed_links(url: str, *args: str) -> dict[str, str]:
    """`classroom links --url URL ARGS` as the instructor types it: seat id -> join link."""
    proc = classroom("links", "--url", url, *args, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(re.findall(r"^  (\S+) +(\S+/join/\S+)$", proc.stdout, re.MULTILINE))


def test_rotate_voids_the_old_link_and_its_session_and_leaves_the_other_seat_alone(trust_room) -> None:
    with classroom_serve(ROOT) as served:
        before = printed_links(served.url)
        victim, mallory = Browser(), Browser()
        assert victim.get(before[VICTIM])[0] == 200 and victim.seat_cookie() is not None
        assert victim.get(f"{served.url}/seat/{VICTIM}/")[0] == 200
        assert mallory.get(before[MALLORY])[0] == 200
        old_cookie = victim.seat_cookie()

        rotated = printed_links(served.url, "--rotate", VICTIM)

        assert list(rotated) == [VICTIM] and rotated[VICTIM] != before[VICTIM]
        status, body = Browser().get(before[VICTIM])
        forged_status, forged_body = Browser().get(f"{served.url}/join/{'0' * 32}")
        assert status == forged_status == 403 and body == forged_body, "a rotated link looks like a forged one"
        assert victim.seat_cookie() == old_cookie
        assert victim.get(f"{served.url}/seat/{VICTIM}/")[0] == 403, "the leaked link's session ended too"
        assert victim.get(rotated[VICTIM])[0] == 200 and victim.seat_cookie() != old_cookie
        assert victim.get(f"{served.url}/seat/{VICTIM}/")[0] == 200

        after = printed_links(served.url)
        assert after == {**before, VICTIM: rotated[VICTIM]}
        assert mallory.get(f"{served.url}/seat/{MALLORY}/")[0] == 200, "the other seat's session stays"
        assert Browser().get(before[MALLORY])[0] == 200
        assert mallory.get(f"{served.url}/seat/{VICTIM}/")[0] == 403


def test_a_link_with_an_expiry_opens_its_seat_now(trust_room) -> None:
    with classroom_serve(ROOT) as served:
        link = printed_links(served.url, VICTIM, "--expires", "8h")[VICTIM]
        assert re.search(r"/join/[0-9a-f]{32}-[0-9a-z]+$", link), link
        student = Browser()
        assert student.get(link)[0] == 200 and student.get(f"{served.url}/seat/{VICTIM}/")[0] == 200
