"""Who may open what in a classroom server: join tokens, seat and instructor cookies.

Every secret is derived from the course key with its own purpose label and the classroom id
(HMAC-SHA256), so a join token, the instructor token and the cookie signing key are unrelated to
each other and to report signatures, and none of them outlives the classroom's `up` (classroom.links).

A join token is `<mac>` or `<mac>-<expiry>`: the HMAC of the seat id, that seat's link nonce and the
expiry (Unix seconds, base 36), cut to 128 bits. It carries no seat id, so no seat can compute
another's; a new nonce (a rotation) voids it. Tokens are compared in constant time, and a token that
opens nothing (forged, expired, rotated, another classroom's) gets the same answer whether or not
the seat exists.

Cookies are itsdangerous timed signatures (what Flask's own session uses): the seat id, a tag of the
seat's link nonce (a rotation voids the cookie too) and the link's expiry, signed with the derived
key, refused once older than `max_age_s`, past the link's expiry, or when one byte changes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dselab.classroom.web.links import LinkState
from dselab.errors import UsageError

JOIN_PURPOSE = b"dselab/classroom/join-token/v2"
INSTRUCTOR_PURPOSE = b"dselab/classroom/instructor-token/v2"
COOKIE_PURPOSE = b"dselab/classroom/session-cookie/v2"
SEAT_SALT, INSTRUCTOR_SALT = "seat", "instructor"  # a seat cookie never passes as the instructor's
TOKEN_HEX = 32  # 128 bits: unguessable, short enough for a link
MAX_TOKEN_CHARS = 64  # a MAC, a dash and an expiry; anything longer opens nothing
DEFAULT_MAX_AGE_S = 12 * 3600  # a class day; the join link sets a fresh cookie at any time


class LinkSource(Protocol):
    """The live link state: a fixed LinkState, or classroom.links.LiveLinks (re-read on change)."""

    def current(self) -> LinkState: ...


def derive(key: bytes, purpose: bytes, classroom: str) -> bytes:
    """A key for one purpose in one classroom only."""
    return hmac.new(key, purpose + b"@" + classroom.encode("ascii"), hashlib.sha256).digest()


class ClassroomAuth:
    """Tokens and cookies of one classroom: the course key and the live link state."""

    def __init__(self, key: bytes, links: LinkSource, max_age_s: int = DEFAULT_MAX_AGE_S,
                 clock: Callable[[], float] = time.time) -> None:
        if not key:
            raise UsageError("empty course key")
        self._key, self._links, self._clock = key, links, clock
        self.max_age_s = max_age_s

    # -- links ------------------------------------------------------------------------------------

    def join_token(self, seat_id: str, expires_at: int | None = None) -> str:
        """Seat `seat_id`'s join token, valid until `expires_at` (Unix seconds) or until rotated."""
        state = self._links.current()
        if seat_id not in state.seats:
            raise UsageError(f"seat {seat_id!r} has no join link yet", fix="run `dselab classroom links`")
        suffix = f"-{_base36(expires_at)}" if expires_at is not None else ""
        return self._join_mac(state, seat_id, suffix) + suffix

    def seat_for_token(self, token: str, seat_ids: Iterable[str]) -> str | None:
        """The seat whose live, unexpired join token this is, or None. Every seat is compared, each in
        constant time; the expiry is judged after, so every refusal costs the same."""
        state = self._links.current()
        mac, dash, stamp = token.partition("-")
        suffix = dash + stamp
        found = None
        for seat_id in seat_ids:
            if seat_id in state.seats and _same(self._join_mac(state, seat_id, suffix), mac):
                found = seat_id
        if len(token) > MAX_TOKEN_CHARS or (dash and self._expired(_from_base36(stamp))):
            return None
        return found

    @staticmethod
    def token_expiry(token: str) -> int | None:
        """The expiry a join token carries (Unix seconds), None for a link without one."""
        stamp = token.partition("-")[2]
        return _from_base36(stamp) if stamp else None

    def instructor_token(self) -> str:
        state = self._links.current()
        secret = derive(self._key, INSTRUCTOR_PURPOSE, state.classroom)
        return hmac.new(secret, state.instructor.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX]

    def is_instructor_token(self, token: str) -> bool:
        return _same(self.instructor_token(), token)

    # -- cookies ----------------------------------------------------------------------------------

    def seat_cookie(self, seat_id: str, until: int | None = None) -> str:
        """The cookie a join link sets: that seat, its current link nonce and the link's expiry."""
        state = self._links.current()
        data: dict[str, object] = {"seat": seat_id, "link": _tag(state.seats.get(seat_id, ""))}
        if until is not None:
            data["until"] = until
        return self._cookies(state, SEAT_SALT).dumps(data)

    def seat_from_cookie(self, value: str | None) -> str | None:
        """The seat a cookie was issued for; None if missing, forged, tampered, expired, of a rotated
        link or of another classroom."""
        state = self._links.current()
        data = _loads(self._cookies(state, SEAT_SALT), value, self.max_age_s)
        if not isinstance(data, dict):
            return None
        seat, tag, until = data.get("seat"), data.get("link"), data.get("until")
        if not isinstance(seat, str) or seat not in state.seats or not isinstance(tag, str):
            return None
        if not _same(_tag(state.seats[seat]), tag) or (until is not None and self._expired(until)):
            return None
        return seat

    def cookie_max_age(self, until: int | None) -> int:
        """Seconds a browser keeps a cookie: a class day, and never past the link's expiry."""
        if until is None:
            return self.max_age_s
        return max(0, min(self.max_age_s, until - int(self._clock())))

    def instructor_cookie(self) -> str:
        state = self._links.current()
        return self._cookies(state, INSTRUCTOR_SALT).dumps({"role": "instructor", "link": _tag(state.instructor)})

    def is_instructor_cookie(self, value: str | None) -> bool:
        state = self._links.current()
        data = _loads(self._cookies(state, INSTRUCTOR_SALT), value, self.max_age_s)
        if not isinstance(data, dict) or data.get("role") != "instructor" or not isinstance(data.get("link"), str):
            return False
        return _same(_tag(state.instructor), data["link"])

    # -- parts ------------------------------------------------------------------------------------

    def _join_mac(self, state: LinkState, seat_id: str, suffix: str) -> str:
        secret = derive(self._key, JOIN_PURPOSE, state.classroom)
        message = "\n".join((seat_id, state.seats[seat_id], suffix)).encode("utf-8", "surrogatepass")
        return hmac.new(secret, message, hashlib.sha256).hexdigest()[:TOKEN_HEX]

    def _cookies(self, state: LinkState, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(derive(self._key, COOKIE_PURPOSE, state.classroom), salt=salt)

    def _expired(self, until: object) -> bool:
        return not isinstance(until, int) or self._clock() >= until


def _tag(nonce: str) -> str:
    """What a cookie carries of a link nonce: enough to see a rotation, not the nonce itself."""
    return hashlib.sha256(b"dselab/classroom/cookie-tag\n" + nonce.encode()).hexdigest()[:16]


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _from_base36(stamp: str) -> int | None:
    """The number `_base36` wrote, or None for anything it would not have written."""
    if not stamp or len(stamp) > 12 or not stamp.isascii() or not stamp.isalnum() or stamp != stamp.lower():
        return None
    return int(stamp, 36)


def _same(expected: str, given: str) -> bool:
    """Constant-time equality of two strings of any characters (compare_digest wants bytes for non-ASCII)."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


def _loads(serializer: URLSafeTimedSerializer, value: str | None, max_age_s: int) -> object:
    if not value:
        return None
    try:
        return serializer.loads(value, max_age=max_age_s)
    except BadSignature:  # SignatureExpired is one too
        return None
