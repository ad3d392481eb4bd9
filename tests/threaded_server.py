"""A test's web server on a free loopback port, served from a thread for the test's duration."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serving(server: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `server` (a werkzeug/http.server server) in a thread; yields its base URL. A classroom
    server's page terminals end with it."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        app = getattr(server, "app", None)
        terminals = getattr(app, "extensions", {}).get("dselab_terminals")
        if terminals is not None:
            terminals.close()
