"""The page terminal's messages: keystrokes and sizes are accepted, anything else is a clear refusal."""

from __future__ import annotations

import pytest

from dselab.classroom.web.terminal_socket import parse_message
from dselab.errors import UsageError


def test_keystrokes_become_bytes_for_the_shell() -> None:
    assert parse_message('{"type": "input", "data": "ls -l\\r"}') == ("input", b"ls -l\r")
    assert parse_message('{"type": "input", "data": "h\\u00e9"}') == ("input", "hé".encode())


def test_a_resize_carries_rows_and_columns() -> None:
    assert parse_message(b'{"type": "resize", "rows": 40, "cols": 132}') == ("resize", (40, 132))


@pytest.mark.parametrize("raw", ["not json", "[]", '{"type": "input"}', '{"type": "input", "data": 5}',
                                 '{"type": "resize", "rows": "40", "cols": 80}',
                                 '{"type": "resize", "rows": true, "cols": 80}', '{"type": "exec"}', b"\xff\xfe"])
def test_anything_else_is_refused_with_the_expected_shape(raw: str | bytes) -> None:
    with pytest.raises(UsageError, match="JSON|send"):
        parse_message(raw)
