"""Version-aware text: step pages and solution commands are Jinja templates.

They see `version` ("5.0.9"), `major` (5), `runtime` ("local" or "docker") and `legacy`
(True on DSE 5.1 / Cassandra 3.11, where e.g. `clearsnapshot training` needs no `--all`).
A missing variable fails loudly (StrictUndefined), never renders as an empty string.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError

from dselab.errors import UsageError

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def version_vars(version: str, runtime: str) -> dict[str, Any]:
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 0
    return {"version": version, "major": major, "runtime": runtime, "legacy": major < 4}


def render_text(text: str, variables: dict[str, Any], where: str = "template") -> str:
    try:
        return _ENV.from_string(text).render(**variables)
    except TemplateError as err:
        raise UsageError(f"{where}: {err}") from None
