"""Who may open what in a classroom server: join tokens, seat and instructor cookies, all from the course key.

Every secret is derived from the course key with its own purpose label (HMAC-SHA256), so a join token,
the instructor token and the cookie signing key are unrelated to each other and to report signatures:
knowing one tells nothing about another. A join token is the HMAC of the seat id, so it carries no
seat id and no seat can compute another's. Tokens are compared in constant time, and a token that
opens nothing gets the same answer whether or not the seat exists.

Cookies are itsdangerous timed signatures (what Flask's own session uses): the seat id and the role,
signed with the derived key, refused once older than `max_age_s` or when one byte changes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from dselab import grading
from dselab.errors import UsageError

JOIN_PURPOSE = b"dselab/classroom/join-token/v1"
INSTRUCTOR_PURPOSE = b"dselab/classroom/instructor-token/v1"
COOKIE_PURPOSE = b"dselab/classroom/session-cookie/v1"
SEAT_SALT, INSTRUCTOR_SALT = "seat", "instructor"  # a seat cookie never passes as the instructor's
TOKEN_HEX = 32  # 128 bits: unguessable, short enough for a link
DEFAULT_MAX_AGE_S = 12 * 3600  # a class day; the join link sets a fresh cookie at any time


def derive(key: bytes, purpose: bytes) -> bytes:
    """A key for one purpose only."""
    return hmac.new(key, purpose, hashlib.sha256).digest()


def load_course_key(key_file: Path | None = None) -> bytes:
    """The course key (the grading key file, or $DSELAB_COURSE_KEY); a classroom cannot run without one."""
    key = grading.load_key(key_file)
    if not key:
        raise UsageError("the classroom needs a course key: join links and cookies are derived from it",
                         fix="pass --key-file course.key (create one with `dselab keygen`)")
    return key


class ClassroomAuth:
    """Tokens and cookies of one classroom, all derived from its course key."""

    def __init__(self, key: bytes, max_age_s: int = DEFAULT_MAX_AGE_S) -> None:
        if not key:
            raise UsageError("empty course key")
        self._join_key = derive(key, JOIN_PURPOSE)
        self._instructor_token = hmac.new(derive(key, INSTRUCTOR_PURPOSE), b"instructor",
                                          hashlib.sha256).hexdigest()[:TOKEN_HEX]
        cookie_key = derive(key, COOKIE_PURPOSE)
        self._seat_cookies = URLSafeTimedSerializer(cookie_key, salt=SEAT_SALT)
        self._instructor_cookies = URLSafeTimedSerializer(cookie_key, salt=INSTRUCTOR_SALT)
        self.max_age_s = max_age_s

    # -- links ------------------------------------------------------------------------------------

    def join_token(self, seat_id: str) -> str:
        return hmac.new(self._join_key, seat_id.encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_HEX]

    def seat_for_token(self, token: str, seat_ids: Iterable[str]) -> str | None:
        """The seat whose join token this is, or None. Every seat is compared, each in constant time."""
        found = None
        for seat_id in seat_ids:
            if _same(self.join_token(seat_id), token):
                found = seat_id
        return found

    def instructor_token(self) -> str:
        return self._instructor_token

    def is_instructor_token(self, token: str) -> bool:
        return _same(self._instructor_token, token)

    # -- cookies ----------------------------------------------------------------------------------

    def seat_cookie(self, seat_id: str) -> str:
        return self._seat_cookies.dumps({"seat": seat_id})

    def seat_from_cookie(self, value: str | None) -> str | None:
        """The seat a cookie was issued for; None if missing, forged, tampered or expired."""
        data = _loads(self._seat_cookies, value, self.max_age_s)
        seat = data.get("seat") if isinstance(data, dict) else None
        return seat if isinstance(seat, str) else None

    def instructor_cookie(self) -> str:
        return self._instructor_cookies.dumps({"role": "instructor"})

    def is_instructor_cookie(self, value: str | None) -> bool:
        data = _loads(self._instructor_cookies, value, self.max_age_s)
        return isinstance(data, dict) and data.get("role") == "instructor"


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
