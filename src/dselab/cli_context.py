"""The settings `dselab` loaded for the command being run: `main` puts them on click's context
(the environment once, plus its flags) and every command module takes them from there."""

from __future__ import annotations

import click

from dselab.errors import UsageError
from dselab.settings import Settings


def loaded_settings() -> Settings:
    """The settings the `dselab` group loaded for this command."""
    loaded = click.get_current_context().find_object(Settings)
    if loaded is None:  # a command invoked without the group (never from the shell)
        raise UsageError("dselab's settings were not loaded: run commands through `dselab`")
    return loaded
