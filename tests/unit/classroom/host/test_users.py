"""Student id -> Unix user and namespace names: deterministic, valid, collision-free for case."""

from __future__ import annotations

import re

from dselab.classroom.host.namespaces import netns_name
from dselab.classroom.host.users import MAX_NAME, PREFIX, user_name

VALID_USER = re.compile(r"^[a-z][-a-z0-9_]*$")  # Debian's default NAME_REGEX


def test_plain_lower_case_ids_keep_their_name() -> None:
    assert user_name("alice") == "dsl-alice"
    assert user_name("seat01") == "dsl-seat01"


def test_other_ids_get_a_readable_part_and_a_hash_and_stay_valid() -> None:
    for student in ("Alice", "bob.smith", "x" * 64, "A.B-C_D", "..", "-", "Z" * 64):
        name = user_name(student)
        assert name.startswith(PREFIX) and len(name) <= MAX_NAME and VALID_USER.match(name), name
        assert user_name(student) == name  # deterministic


def test_ids_differing_only_in_case_or_punctuation_map_to_different_users() -> None:
    names = {user_name(s) for s in ("alice", "Alice", "ALICE", "a.lice", "a-lice")}
    assert len(names) == 5


def test_namespace_name_follows_the_user() -> None:
    assert netns_name("dsl-alice") == "dselab-alice"
    assert netns_name(user_name("Bob.B")).startswith("dselab-bob-b-")
