"""Which names a lab server answers to, and which bind addresses count as loopback."""

from __future__ import annotations

import pytest

from dselab.web.hosts import LOOPBACK_NAMES, host_name, is_loopback, served_names


@pytest.mark.parametrize(("header", "name"), [
    ("localhost", "localhost"), ("LocalHost:8055", "localhost"), ("127.0.0.1:8055", "127.0.0.1"),
    ("[::1]:8055", "::1"), ("[::1]", "::1"), ("example.org.", "example.org"),
    ("[::1", ""), ("[::1]x", ""), ("", ""),
])
def test_host_name_drops_the_port_and_brackets(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.63.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("192.168.1.5", False), ("lab.example.org", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_served_names_are_loopback_plus_the_bound_address_plus_extras() -> None:
    names = served_names("127.0.63.1", ["Lab.Example.org."], machine=lambda: {"should-not-be-asked"})
    assert names == LOOPBACK_NAMES | {"127.0.63.1", "lab.example.org"}


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", ""])
def test_a_wildcard_bind_serves_this_machines_names_not_the_wildcard(wildcard: str) -> None:
    names = served_names(wildcard, machine=lambda: {"labhost", "192.168.1.5"})
    assert names == LOOPBACK_NAMES | {"labhost", "192.168.1.5"}
