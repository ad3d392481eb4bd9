"""Issue 16, item 8: a leaked join link is voided by `classroom links --rotate SEAT` on a running
`classroom serve` over real seats: the old link gets 403, the session it opened ends (its open
terminal too), the new link works, and the other seat's link and session are untouched. Root only
(the shared trust room)."""

from __future__ import annotations

import json
import os
import re
import time
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, build_opener

import pytest
from classroom_web import classroom_serve
from simple_websocket import Client, ConnectionClosed
from trust_room import MALLORY, ROOT, VICTIM, classroom

from dselab.classroom.web.server import SEAT_COOKIE
from dselab.classroom.web.terminal_socket import CLOSE_SESSION_ENDED

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


def open_terminal(url: str, seat: str, cookie: str) -> Client:
    """The seat's page terminal, as its page opens it, with `cookie`; a command has run in it."""
    ws = Client.connect(url.replace("http://", "ws://") + f"/seat/{seat}/terminal",
                        headers={"Cookie": f"{SEAT_COOKIE}={cookie}", "Origin": "http://127.0.0.1"})
    ws.send(json.dumps({"type": "input", "data": "echo ready-$((6*7))\r"}))
    assert_output(ws, b"ready-42")
    return ws


def assert_output(ws: Client, wanted: bytes, timeout_s: float = 60) -> None:
    seen, deadline = b"", time.monotonic() + timeout_s
    while wanted not in seen:
        assert time.monotonic() < deadline, seen[-400:]
        data = ws.receive(timeout=5)
        seen += data if isinstance(data, bytes) else (data or "").encode()


def closed_by_server(ws: Client, timeout_s: float = 30) -> ConnectionClosed:
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ws.receive(timeout=1)
    except ConnectionClosed as closed:
        return closed
    raise AssertionError(f"the terminal stayed open {timeout_s:.0f} s")


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
        assert old_cookie is not None and served.url.startswith("http://127.0.0.1:")
        leaked_terminal = open_terminal(served.url, VICTIM, old_cookie)
        mallory_cookie = mallory.seat_cookie()
        assert mallory_cookie is not None
        mallory_terminal = open_terminal(served.url, MALLORY, mallory_cookie)

        rotated = printed_links(served.url, "--rotate", VICTIM)

        assert list(rotated) == [VICTIM] and rotated[VICTIM] != before[VICTIM]
        status, body = Browser().get(before[VICTIM])
        forged_status, forged_body = Browser().get(f"{served.url}/join/{'0' * 32}")
        assert status == forged_status == 403 and body == forged_body, "a rotated link looks like a forged one"
        assert victim.seat_cookie() == old_cookie
        assert victim.get(f"{served.url}/seat/{VICTIM}/")[0] == 403, "the leaked link's session ended too"
        assert closed_by_server(leaked_terminal).reason == CLOSE_SESSION_ENDED, "and its open terminal"
        assert victim.get(rotated[VICTIM])[0] == 200 and victim.seat_cookie() != old_cookie
        assert victim.get(f"{served.url}/seat/{VICTIM}/")[0] == 200

        after = printed_links(served.url)
        assert after == {**before, VICTIM: rotated[VICTIM]}
        assert mallory.get(f"{served.url}/seat/{MALLORY}/")[0] == 200, "the other seat's session stays"
        assert Browser().get(before[MALLORY])[0] == 200
        assert mallory.get(f"{served.url}/seat/{VICTIM}/")[0] == 403
        mallory_terminal.send(json.dumps({"type": "input", "data": "echo still-$((1+1))\r"}))
        assert_output(mallory_terminal, b"still-2")
        mallory_terminal.close()


def test_a_link_with_an_expiry_opens_its_seat_now(trust_room) -> None:
    with classroom_serve(ROOT) as served:
        link = printed_links(served.url, VICTIM, "--expires", "8h")[VICTIM]
        assert re.search(r"/join/[0-9a-f]{32}-[0-9a-z]+$", link), link
        student = Browser()
        assert student.get(link)[0] == 200 and student.get(f"{served.url}/seat/{VICTIM}/")[0] == 200
