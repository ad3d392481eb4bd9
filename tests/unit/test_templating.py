"""Lab text is rendered in Jinja's sandbox: template payloads in a step are refused, never run."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab.errors import UsageError
from dselab.templating import render_text, version_vars

VARS = version_vars("5.0.9", "local")


def payloads(marker: Path) -> list[str]:
    """Known ways out of a non-sandboxed Jinja environment; each would create `marker`."""
    cmd = f"touch {marker}"
    return [
        "{{cycler.__init__.__globals__.os.popen('CMD').read()}}".replace("CMD", cmd),
        "{{ joiner.__init__.__globals__.os.system('CMD') }}".replace("CMD", cmd),
        "{{ lipsum.__globals__['os'].popen('CMD').read() }}".replace("CMD", cmd),
        "{{ namespace.__init__.__globals__.os.popen('CMD') }}".replace("CMD", cmd),
        "{{ self.__init__.__globals__.__builtins__.__import__('os').system('CMD') }}".replace("CMD", cmd),
        "{{ version.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''|attr('__class__') }}",
        "{{ '{0.__class__}'.format(version) }}",
    ]


@pytest.mark.parametrize("index", range(8))
def test_template_payloads_are_refused_and_never_run(tmp_path: Path, index: int) -> None:
    marker = tmp_path / "pwned"
    text = f"Run this:\n\n{payloads(marker)[index]}\n"
    with pytest.raises(UsageError) as refused:
        render_text(text, VARS, where="step 1 (snapshot) of lab 05")
    message = refused.value.one_line()
    assert message.startswith("step 1 (snapshot) of lab 05: unsafe template code refused (access to attribute")
    assert "client_legacy, legacy, major, nodetool, runtime, version" in message
    assert not marker.exists()


def test_plain_jinja_and_the_version_variables_still_work() -> None:
    text = "{% if legacy %}clearsnapshot training{% else %}clearsnapshot --all training{% endif %} on {{ version }}" \
           " ({{ runtime|upper }}, {% for n in range(2) %}{{ n }}{% endfor %})\n"
    assert render_text(text, VARS) == "clearsnapshot --all training on 5.0.9 (LOCAL, 01)\n"
    assert render_text(text, version_vars("3.11", "docker")).startswith("clearsnapshot training on 3.11")


def test_undefined_names_fail_loudly() -> None:
    with pytest.raises(UsageError, match="solution of step x: 'config' is undefined"):
        render_text("{{ config }}", VARS, where="solution of step x")
