"""Join tokens, the instructor token and the signed cookies: each opens exactly what it was made for,
in its own classroom, until its link is rotated or expires."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.errors import UsageError

KEY = b"0123456789abcdef" * 4
SEATS = ("alice", "bob", "carol")
NOW = 2_000_000_000


class Switch:
    """A link source the test changes, as `classroom links --rotate` changes the file a server reads."""

    def __init__(self, state: LinkState) -> None:
        self.state = state

    def current(self) -> LinkState:
        return self.state


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def links() -> Switch:
    return Switch(LinkState.new(SEATS))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(links: Switch, clock: Clock) -> ClassroomAuth:
    return ClassroomAuth(KEY, links, clock=clock)


def refused_alike(auth: ClassroomAuth, token: str) -> None:
    """A token that opens nothing: no seat, not the instructor (one answer, whatever the reason)."""
    assert auth.seat_for_token(token, SEATS) is None
    assert not auth.is_instructor_token(token)


def test_each_seat_has_its_own_stable_token_that_names_no_seat(auth: ClassroomAuth, links: Switch) -> None:
    tokens = {seat: auth.join_token(seat) for seat in SEATS}
    assert len(set(tokens.values())) == len(SEATS)
    assert all(len(t) == 32 and seat not in t for seat, t in tokens.items())
    assert ClassroomAuth(KEY, links).join_token("alice") == tokens["alice"], "same key, same links: same token"
    assert ClassroomAuth(b"another key", links).join_token("alice") != tokens["alice"]


def test_a_token_opens_its_own_seat_only(auth: ClassroomAuth) -> None:
    for seat in SEATS:
        assert auth.seat_for_token(auth.join_token(seat), SEATS) == seat
        assert auth.seat_for_token(auth.join_token(seat, NOW + 60), SEATS) == seat


@pytest.mark.parametrize("token", ["", "0" * 32, "alice", "../bob", "ä" * 32, "x" * 10_000, "0" * 32 + "-",
                                   "0" * 32 + "-zzzzzz", "-" * 40])
def test_forged_tokens_open_nothing(auth: ClassroomAuth, token: str) -> None:
    refused_alike(auth, token)


def test_a_token_of_a_removed_seat_or_other_course_opens_nothing(auth: ClassroomAuth, links: Switch) -> None:
    assert auth.seat_for_token(auth.join_token("carol"), ("alice", "bob")) is None
    refused_alike(auth, ClassroomAuth(b"other course", links).join_token("alice"))
    tampered = auth.join_token("alice")[:-1] + ("0" if auth.join_token("alice")[-1] != "0" else "1")
    refused_alike(auth, tampered)


def test_rotating_a_seat_voids_its_token_and_cookie_and_leaves_the_other_seats_alone(
        auth: ClassroomAuth, links: Switch) -> None:
    old_token, old_cookie = auth.join_token("alice"), auth.seat_cookie("alice")
    bob_token, bob_cookie = auth.join_token("bob"), auth.seat_cookie("bob")
    links.state = links.state.rotated(["alice"])
    refused_alike(auth, old_token)
    assert auth.seat_from_cookie(old_cookie) is None, "a rotation means the link leaked: its sessions end too"
    new_token = auth.join_token("alice")
    assert new_token != old_token and auth.seat_for_token(new_token, SEATS) == "alice"
    assert auth.seat_from_cookie(auth.seat_cookie("alice")) == "alice"
    assert auth.join_token("bob") == bob_token and auth.seat_for_token(bob_token, SEATS) == "bob"
    assert auth.seat_from_cookie(bob_cookie) == "bob"


def test_an_expired_link_opens_nothing_and_its_session_ends_with_it(auth: ClassroomAuth, clock: Clock) -> None:
    token = auth.join_token("alice", NOW + 3600)
    assert len(token) <= 40, "still short enough for a link"
    assert auth.seat_for_token(token, SEATS) == "alice"
    cookie = auth.seat_cookie("alice", auth.token_expiry(token))
    assert auth.cookie_max_age(auth.token_expiry(token)) == 3600
    clock.now = NOW + 3600
    refused_alike(auth, token)
    assert auth.seat_from_cookie(cookie) is None
    assert auth.seat_from_cookie(auth.seat_cookie("alice")) == "alice", "a cookie of a link without expiry"


def test_the_expiry_cannot_be_moved_or_dropped(auth: ClassroomAuth) -> None:
    token = auth.join_token("alice", NOW + 60)
    mac, _, stamp = token.partition("-")
    later = ClassroomAuth.token_expiry(auth.join_token("alice", NOW + 10**6))
    assert later is not None
    for forged in (mac, f"{mac}-{stamp}0", f"{mac}-{later:x}", f"{mac}-{stamp.upper()}"):
        refused_alike(auth, forged)


def test_a_new_classroom_voids_every_token_and_cookie_under_the_same_key(auth: ClassroomAuth, links: Switch) -> None:
    """`down --purge` then `up` with last term's key: a new classroom id, even were the nonces the same."""
    tokens = [auth.join_token(seat) for seat in SEATS]
    cookies = [auth.seat_cookie(seat) for seat in SEATS]
    instructor_token, instructor_cookie = auth.instructor_token(), auth.instructor_cookie()
    links.state = LinkState(LinkState.new().classroom, links.state.instructor, links.state.seats)
    for token in (*tokens, instructor_token):
        refused_alike(auth, token)
    assert all(auth.seat_from_cookie(cookie) is None for cookie in cookies)
    assert not auth.is_instructor_cookie(instructor_cookie)


def test_rotating_the_instructor_voids_the_login_link_and_its_cookie_only(auth: ClassroomAuth, links: Switch) -> None:
    token, cookie, seat_token = auth.instructor_token(), auth.instructor_cookie(), auth.join_token("alice")
    links.state = links.state.rotated_instructor()
    assert not auth.is_instructor_token(token) and not auth.is_instructor_cookie(cookie)
    assert auth.is_instructor_token(auth.instructor_token()) and auth.instructor_token() != token
    assert auth.is_instructor_cookie(auth.instructor_cookie())
    assert auth.seat_for_token(seat_token, SEATS) == "alice"


def test_instructor_token_differs_from_every_join_token(auth: ClassroomAuth, links: Switch) -> None:
    token = auth.instructor_token()
    assert auth.is_instructor_token(token)
    assert token not in {auth.join_token(seat) for seat in SEATS}
    assert auth.seat_for_token(token, SEATS) is None
    assert not ClassroomAuth(b"other course", links).is_instructor_token(token)


def test_a_seat_without_a_link_nonce_has_no_link(auth: ClassroomAuth) -> None:
    with pytest.raises(UsageError, match="no join link yet"):
        auth.join_token("dave")
    assert auth.seat_from_cookie(auth.seat_cookie("dave")) is None


def test_seat_cookie_round_trips_and_refuses_tampering(auth: ClassroomAuth, links: Switch) -> None:
    cookie = auth.seat_cookie("alice")
    assert auth.seat_from_cookie(cookie) == "alice"
    alice_payload, _, alice_stamp_and_sig = cookie.partition(".")
    bob_payload = auth.seat_cookie("bob").partition(".")[0]
    at = len(cookie) - 5  # inside the signature, away from base64's unused trailing bits
    flipped = cookie[:at] + ("A" if cookie[at] != "A" else "B") + cookie[at + 1:]
    for bad in (flipped, f"{bob_payload}.{alice_stamp_and_sig}", alice_payload, "", None,
                ClassroomAuth(b"other course", links).seat_cookie("alice")):
        assert auth.seat_from_cookie(bad) is None, bad


def test_seat_and_instructor_cookies_never_pass_for_each_other(auth: ClassroomAuth) -> None:
    assert not auth.is_instructor_cookie(auth.seat_cookie("alice"))
    assert auth.seat_from_cookie(auth.instructor_cookie()) is None
    assert auth.is_instructor_cookie(auth.instructor_cookie())


def test_cookies_expire(auth: ClassroomAuth, monkeypatch: pytest.MonkeyPatch) -> None:
    real_timestamp = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - auth.max_age_s - 5)
    old_seat, old_instructor = auth.seat_cookie("alice"), auth.instructor_cookie()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real_timestamp)
    assert auth.seat_from_cookie(old_seat) is None
    assert not auth.is_instructor_cookie(old_instructor)
