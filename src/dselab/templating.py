"""Version-aware lab text: step pages and solution commands are Jinja templates.

They see `version` ("5.0.9"), `major` (5), `runtime` ("local" or "docker") and `legacy`
(True on DSE 5.1 / Cassandra 3.11, where e.g. `clearsnapshot training` needs no `--all`).
A missing variable fails loudly (StrictUndefined), never renders as an empty string.

`render_text` is the one way lab text is rendered (`dselab show`, `build-site`, the web lab,
solutions). Lab text is content from any lab root (DSELAB_LABS), not code, so it runs in Jinja's
immutable sandbox: `{{ cycler.__init__.__globals__.os }}` and the like are refused as a content
error instead of reaching Python internals.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dselab.errors import UsageError

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def version_vars(version: str, runtime: str) -> dict[str, Any]:
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 0
    return {"version": version, "major": major, "runtime": runtime, "legacy": major < 4}


def render_text(text: str, variables: dict[str, Any], where: str = "template") -> str:
    """Lab text rendered in the sandbox; any template problem is a UsageError naming `where`."""
    try:
        return _ENV.from_string(text).render(**variables)
    except SecurityError as err:
        names = ", ".join(sorted(variables))
        raise UsageError(f"{where}: unsafe template code refused ({err})",
                         fix=f"lab text may use plain Jinja (if/else, filters) and the variables {names}") from None
    except TemplateError as err:
        raise UsageError(f"{where}: {err}") from None
