"""Version-aware lab text: step pages and solution commands are Jinja templates.

They see `version` ("5.0.9"), `major` (5), `runtime` ("local" or "docker"), `legacy`
(True when the nodes are DSE 5.1 / Cassandra 3.11), `nodetool` (the version of the nodetool the
scripts run: "3.11" or the nodes' own, nodetool_choice) and `client_legacy` (that nodetool is
3.11's, where e.g. `clearsnapshot training` needs no `--all` and `import` does not exist).
Command forms follow `client_legacy`; what the server sends (listsnapshots' columns) follows `legacy`.
A missing variable fails loudly (StrictUndefined), never renders as an empty string.

`render_text` is the one way lab text is rendered (`dselab show`, `build-site`, the web lab,
solutions). Lab text is content from any lab root (DSELAB_LABS), not code, so it runs in Jinja's
immutable sandbox: `{{ cycler.__init__.__globals__.os }}` and the like are refused as a content
error instead of reaching Python internals.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from dselab.errors import UsageError

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment


@cache
def _env() -> ImmutableSandboxedEnvironment:
    """Jinja, imported on the first render: a check renders nothing (a tenth of the CLI's start)."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def version_vars(version: str, runtime: str, client: str = "native") -> dict[str, Any]:
    """The variables for a cluster of `version` whose scripts run nodetool `client` ("3.11" or "native")."""
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 0
    legacy = major < 4
    nodetool = "3.11" if client == "3.11" or legacy else version
    return {"version": version, "major": major, "runtime": runtime, "legacy": legacy,
            "nodetool": nodetool, "client_legacy": nodetool.startswith("3.")}


def render_text(text: str, variables: dict[str, Any], where: str = "template") -> str:
    """Lab text rendered in the sandbox; any template problem is a UsageError naming `where`."""
    from jinja2 import TemplateError
    from jinja2.exceptions import SecurityError

    try:
        return _env().from_string(text).render(**variables)
    except SecurityError as err:
        names = ", ".join(sorted(variables))
        raise UsageError(f"{where}: unsafe template code refused ({err})",
                         fix=f"lab text may use plain Jinja (if/else, filters) and the variables {names}") from None
    except TemplateError as err:
        raise UsageError(f"{where}: {err}") from None
