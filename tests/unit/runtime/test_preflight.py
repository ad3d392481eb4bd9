"""Preflight's loopback check: an address no interface has is explained with the alias command.

There is no macOS machine here: a Mac is simulated by a bind that fails with EADDRNOTAVAIL for
every 127.x address but 127.0.0.1, as macOS's does until lo0 is aliased.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

import pytest

from dselab.errors import EnvironmentProblem
from dselab.runtime import preflight
from dselab.runtime.local_config import NATIVE_PORT, lab_specs, restore_specs
from dselab.runtime.local_settings import LocalSettings

REAL_BIND = socket.socket.bind


@pytest.fixture
def mac(monkeypatch: pytest.MonkeyPatch) -> None:
    def bind(sock: socket.socket, address: Any) -> None:
        if address[0] != "127.0.0.1":
            raise OSError(errno.EADDRNOTAVAIL, "Can't assign requested address")
        REAL_BIND(sock, ("127.0.0.1", 0))  # the JMX port checks: any free port will do

    monkeypatch.setattr(socket.socket, "bind", bind)
    monkeypatch.setattr(preflight, "platform", lambda: "darwin")
    monkeypatch.setattr(preflight, "java_binary", lambda java_home=None: "/usr/bin/java")
    monkeypatch.setattr(preflight, "java_major", lambda java: 17)


def test_a_mac_without_aliases_is_told_the_ifconfig_commands(mac: None, tmp_path: Path) -> None:
    specs = list(lab_specs(LocalSettings(home=tmp_path)).values())
    with pytest.raises(EnvironmentProblem) as err:
        preflight.check_all(specs, NATIVE_PORT, disk_root=tmp_path)
    assert err.value.message == (
        "cannot start the cluster: 127.0.55.1, 127.0.55.2, 127.0.55.3 not assigned on this Mac "
        "(macOS answers on 127.0.0.1 alone until the loopback is aliased): run "
        "`sudo ifconfig lo0 alias 127.0.55.1 up && sudo ifconfig lo0 alias 127.0.55.2 up && "
        "sudo ifconfig lo0 alias 127.0.55.3 up` once after each reboot")
    assert "port" not in err.value.message  # not mistaken for ports in use


def test_only_the_addresses_being_started_are_named(mac: None, tmp_path: Path) -> None:
    specs = list(restore_specs(LocalSettings(home=tmp_path, loopback="127.0.64")).values())
    with pytest.raises(EnvironmentProblem, match=r"run `sudo ifconfig lo0 alias 127\.0\.64\.4 up` once"):
        preflight.check_all(specs, NATIVE_PORT, disk_root=tmp_path)


def test_linux_gets_the_ip_addr_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "platform", lambda: "linux")
    assert preflight.alias_problem(["127.0.55.2"]) == (
        "127.0.55.2 not assigned to any interface here: run `sudo ip addr add 127.0.55.2/8 dev lo`")


def test_assignable_addresses_are_not_reported() -> None:
    """On Linux every 127.x address answers; a port in use is not an unassigned address."""
    assert preflight.unassigned(["127.0.0.1", "127.0.64.9"]) == []
    with socket.socket() as busy:
        busy.bind(("127.0.64.9", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not preflight.port_free("127.0.64.9", port)
        assert preflight.unassigned(["127.0.64.9"]) == []
