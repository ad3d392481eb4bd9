"""The web lab (Flask): `create_app(workspace_factory)`.

Its protections are reusable pieces: `security.protect(app, names)` installs the request guards
(guards.py: served Host names, same-origin JSON for state changes) and the security headers
(headers.py); hosts.py says which names a server answers to.
"""

from dselab.web.app import create_app

__all__ = ["create_app"]
