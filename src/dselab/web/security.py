"""The one call that protects a lab server (dselab serve, and any other Flask app built on these pieces)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask

from dselab.web.guards import install_guards
from dselab.web.headers import install_headers
from dselab.web.hosts import LOOPBACK_NAMES


def protect(app: Flask, allowed_hosts: Iterable[str] = LOOPBACK_NAMES) -> None:
    """Host allow-list, same-origin JSON for state changes, security headers on every response.
    Call it before registering other before_request hooks, so refusals happen first."""
    install_guards(app, allowed_hosts)
    install_headers(app)
