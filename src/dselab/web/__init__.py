"""The web lab (Flask): `create_app(workspace_factory)`."""

from dselab.web.app import create_app

__all__ = ["create_app"]
