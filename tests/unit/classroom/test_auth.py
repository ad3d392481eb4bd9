"""Join tokens, the instructor token and the signed cookies: each opens exactly what it was made for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from dselab import grading
from dselab.classroom.auth import ClassroomAuth, load_course_key
from dselab.errors import UsageError

KEY = b"0123456789abcdef" * 4
SEATS = ("alice", "bob", "carol")


@pytest.fixture
def auth() -> ClassroomAuth:
    return ClassroomAuth(KEY)


def test_each_seat_has_its_own_stable_token_that_names_no_seat(auth: ClassroomAuth) -> None:
    tokens = {seat: auth.join_token(seat) for seat in SEATS}
    assert len(set(tokens.values())) == len(SEATS)
    assert all(len(t) == 32 and seat not in t for seat, t in tokens.items())
    assert ClassroomAuth(KEY).join_token("alice") == tokens["alice"], "the same key gives the same link"
    assert ClassroomAuth(b"another key").join_token("alice") != tokens["alice"]


def test_a_token_opens_its_own_seat_only(auth: ClassroomAuth) -> None:
    for seat in SEATS:
        assert auth.seat_for_token(auth.join_token(seat), SEATS) == seat


@pytest.mark.parametrize("token", ["", "0" * 32, "alice", "../bob", "ä" * 32, "x" * 10_000])
def test_forged_tokens_open_nothing(auth: ClassroomAuth, token: str) -> None:
    assert auth.seat_for_token(token, SEATS) is None
    assert not auth.is_instructor_token(token)


def test_a_token_of_a_removed_seat_or_other_course_opens_nothing(auth: ClassroomAuth) -> None:
    assert auth.seat_for_token(auth.join_token("dave"), SEATS) is None
    assert auth.seat_for_token(ClassroomAuth(b"other course").join_token("alice"), SEATS) is None
    tampered = auth.join_token("alice")[:-1] + ("0" if auth.join_token("alice")[-1] != "0" else "1")
    assert auth.seat_for_token(tampered, SEATS) is None


def test_instructor_token_differs_from_every_join_token(auth: ClassroomAuth) -> None:
    token = auth.instructor_token()
    assert auth.is_instructor_token(token)
    assert token not in {auth.join_token(seat) for seat in (*SEATS, "instructor")}
    assert auth.seat_for_token(token, (*SEATS, "instructor")) is None
    assert not ClassroomAuth(b"other course").is_instructor_token(token)


def test_seat_cookie_round_trips_and_refuses_tampering(auth: ClassroomAuth) -> None:
    cookie = auth.seat_cookie("alice")
    assert auth.seat_from_cookie(cookie) == "alice"
    alice_payload, _, alice_stamp_and_sig = cookie.partition(".")
    bob_payload = auth.seat_cookie("bob").partition(".")[0]
    at = len(cookie) - 5  # inside the signature, away from base64's unused trailing bits
    flipped = cookie[:at] + ("A" if cookie[at] != "A" else "B") + cookie[at + 1:]
    for bad in (flipped, f"{bob_payload}.{alice_stamp_and_sig}", alice_payload, "", None,
                ClassroomAuth(b"other course").seat_cookie("alice")):
        assert auth.seat_from_cookie(bad) is None, bad


def test_seat_and_instructor_cookies_never_pass_for_each_other(auth: ClassroomAuth) -> None:
    assert not auth.is_instructor_cookie(auth.seat_cookie("alice"))
    assert not auth.is_instructor_cookie(auth.seat_cookie("instructor"))
    assert auth.seat_from_cookie(auth.instructor_cookie()) is None
    assert auth.is_instructor_cookie(auth.instructor_cookie())


def test_cookies_expire(auth: ClassroomAuth, monkeypatch: pytest.MonkeyPatch) -> None:
    real_timestamp = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - auth.max_age_s - 5)
    old_seat, old_instructor = auth.seat_cookie("alice"), auth.instructor_cookie()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real_timestamp)
    assert auth.seat_from_cookie(old_seat) is None
    assert not auth.is_instructor_cookie(old_instructor)


def test_course_key_comes_from_the_grading_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = grading.keygen(tmp_path / "course.key")
    assert load_course_key(key_file) == key_file.read_text().strip().encode()
    monkeypatch.delenv(grading.KEY_ENV, raising=False)
    with pytest.raises(UsageError, match="needs a course key"):
        load_course_key(None)
    with pytest.raises(UsageError, match="cannot read key file"):
        load_course_key(tmp_path / "missing.key")
