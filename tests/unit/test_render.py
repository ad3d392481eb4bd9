"""Rendering step pages: HTML for the web lab and the static site, text for the terminal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from dselab import render, resources
from dselab.errors import UsageError
from dselab.lab import Lab, Step
from shipped_content import shipped

VARS = render.OFFLINE_VARS

SNAPSHOT_BODY = """Take a snapshot of the `training` keyspace.

```bash
./scripts/nodetool.sh snapshot training -t lab_backup
```

Then clear it:

```bash
./scripts/nodetool.sh clearsnapshot {% if legacy %}training{% else %}--all training{% endif %}
```

| version | form |
|---|---|
| {{ version }} | {{ runtime }} |
"""


def make_step(number: int, sid: str, title: str = "", body: str = "Do it.\n", **kw: object) -> Step:
    return Step(id=sid, number=number, title=title or f"Step {sid}", body=body,
                solution=kw.pop("solution", ("./scripts/nodetool.sh status",)), **kw)  # type: ignore[arg-type]


def make_labs() -> tuple[Lab, Lab]:
    env = Lab(id="01-environment", number="01", title="Environment", summary="The training keyspace.",
              steps=(make_step(1, "keyspace", "Create the keyspace"), make_step(2, "load", "Load data")))
    backup = Lab(
        id="05-backup-restore", number="05", title="Backup & Restore", summary="Snapshots and restore.",
        prerequisites=("01",),
        steps=(
            make_step(1, "snapshot", "Take a snapshot", SNAPSHOT_BODY,
                      solution=("./scripts/nodetool.sh snapshot training -t lab_backup",
                                "{% if legacy %}clearsnapshot training{% else %}clearsnapshot --all training"
                                "{% endif %}")),
            make_step(2, "size", "How big is it?", "See [lab 01](lab:01) and [its data](lab:01/load).\n",
                      question="What is the true size of `lab_backup`?"),
            make_step(3, "restore", "Restore"),
        ),
    )
    return env, backup


@pytest.fixture
def labs() -> tuple[Lab, Lab]:
    return make_labs()


def step_page(labs: tuple[Lab, Lab], number: int, live: bool = True, **kw: object) -> str:
    lab = labs[1]
    return render.render_step_html(lab, lab.steps[number - 1], VARS, live=live, labs=labs, **kw)  # type: ignore[arg-type]


def test_code_blocks_get_a_copy_button_and_escaped_code() -> None:
    html = render.markdown_html("```bash\nnodetool snapshot <ks> && echo ok\n```\n", (), render.LIVE_LINKS)
    assert '<button type="button" class="copy"' in html
    assert '<code class="language-bash">nodetool snapshot &lt;ks&gt; &amp;&amp; echo ok\n</code>' in html


def test_step_page_renders_markdown_after_jinja(labs) -> None:
    html = step_page(labs, 1)
    assert html.count('class="copy"') >= 3  # two code blocks in the body, one in the solution
    assert "clearsnapshot --all training" in html
    assert "<td>5.0.9</td>" in html and "<td>local</td>" in html  # tables enabled, variables filled


def test_title_and_raw_html_are_text_not_markup(labs) -> None:
    lab = labs[1]
    evil = make_step(1, "snapshot", "<script>alert(1)</script>", "Hi <script>alert(2)</script> & <b>x</b>\n")
    lab = Lab(id=lab.id, number=lab.number, title="<i>Lab</i>", summary="", steps=(evil,))
    for live in (True, False):
        html = render.render_step_html(lab, evil, VARS, live=live, labs=(lab,))
        assert "<script>alert" not in html and "<i>Lab</i>" not in html and "<b>x</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_links_between_labs(labs) -> None:
    html = step_page(labs, 2)
    assert 'href="/labs/01-environment/"' in html
    assert 'href="/labs/01-environment/load"' in html
    static = step_page(labs, 2, live=False, links=render.Links("../../", static_site=True))
    assert 'href="../../labs/01-environment/index.html"' in static
    assert 'href="../../labs/01-environment/load.html"' in static


def test_prev_next_navigation_crosses_into_the_next_lab(labs) -> None:
    env = labs[0]
    last = render.render_step_html(env, env.steps[-1], VARS, live=True, labs=labs)
    assert 'class="prev" href="/labs/01-environment/keyspace"' in last
    assert 'class="next" href="/labs/05-backup-restore/"' in last
    first = step_page(labs, 1)
    assert 'class="prev" href="/labs/05-backup-restore/"' in first
    assert 'class="next" href="/labs/05-backup-restore/size"' in first


def test_lab_page_links_its_prerequisites(labs) -> None:
    html = render.render_lab_html(labs[1], VARS, live=False, labs=labs)
    assert 'href="/labs/01-environment/"' in html and "Environment" in html


def test_unknown_lab_link_fails_loudly(labs) -> None:
    lab = labs[1]
    step = make_step(1, "x", body="[gone](lab:99)\n")
    with pytest.raises(UsageError, match=r"link 'lab:99'.*valid labs: 01 \(01-environment\)"):
        render.render_step_html(lab, step, VARS, live=True, labs=labs)


def test_missing_template_variable_fails_loudly(labs) -> None:
    lab = labs[1]
    step = make_step(1, "x", body="Run {{ no_such_thing }} now.\n")
    with pytest.raises(UsageError, match="no_such_thing"):
        render.render_step_html(lab, step, VARS, live=True, labs=labs)
    with pytest.raises(UsageError, match="no_such_thing"):
        render.render_step_terminal(lab, step, VARS, color=False)


def test_page_templates_use_strict_undefined(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("{{ missing }}")
    with pytest.raises(UndefinedError):
        render.jinja_env(tmp_path).get_template("t.html").render()


def test_live_page_has_check_answer_status_and_progress(labs) -> None:
    progress = {"snapshot": {"passed": True, "last": {"status": "pass", "message": "found lab_backup"}}}
    html = step_page(labs, 2, progress=progress)
    assert 'id="check-button"' in html and 'data-url="/api/labs/05-backup-restore/steps/size/check"' in html
    assert 'id="answer-form"' in html and "/api/labs/05-backup-restore/steps/size/answer" in html
    assert 'id="cluster-status"' in html and 'data-url="/api/status"' in html
    assert re.search(r'data-step-id="snapshot"><span class="mark passed"', html)
    assert "<summary>Show solution</summary>" in html
    assert 'id="answer-form"' not in step_page(labs, 1)


def test_static_page_has_no_live_parts_but_shows_both_command_forms(labs) -> None:
    html = step_page(labs, 1, live=False, alternative=render.LEGACY_VARS)
    assert 'id="check-button"' not in html and 'id="cluster-status"' not in html
    assert '<details class="solution">' in html
    assert "clearsnapshot --all training" in html and "clearsnapshot training</code>" in html
    assert "DSE 5.1 / Cassandra 3.11 (docker runtime)" in html
    assert "Cassandra 5.0.9 (local runtime)" in html
    body = html[html.index('<article class="body">'):html.index("</article>")]
    assert body.count("snapshot training -t lab_backup") == 1  # the same for every version: shown once
    assert body.count('<section class="variant">') == 2


def test_index_lists_labs_with_links(labs) -> None:
    html = render.render_index_html(labs, VARS, False)
    assert 'href="/labs/01-environment/"' in html and 'href="/labs/05-backup-restore/"' in html
    assert "Backup &amp; Restore" in html
    assert re.search(r"builds on\s*<a href=\"/labs/01-environment/\">lab 01</a>", html)


def test_lab_summary_is_inline_markdown_with_html_as_text(labs) -> None:
    env = labs[0]
    lab = Lab(id=env.id, number=env.number, title=env.title, summary="The `training` keyspace <b>x</b>",
              steps=env.steps)
    html = render.render_index_html((lab,), VARS, True)
    assert "The <code>training</code> keyspace &lt;b&gt;x&lt;/b&gt;" in html


def test_build_site_writes_index_and_a_page_per_step(labs, tmp_path: Path) -> None:
    written = render.build_site(tmp_path / "site", labs=labs)
    out = tmp_path / "site"
    assert out / "index.html" in written
    for lab in labs:
        assert (out / "labs" / lab.id / "index.html").exists()
        for step in lab.steps:
            assert (out / "labs" / lab.id / f"{step.id}.html") in written
    assert (out / "static" / "lab.js").exists() and (out / "static" / "lab.css").exists()
    page = (out / "labs" / "05-backup-restore" / "size.html").read_text()
    assert 'href="../../static/lab.css"' in page and 'href="../../labs/01-environment/index.html"' in page
    assert all(p.exists() for p in written)


def test_terminal_rendering_plain_and_rich(labs) -> None:
    lab = labs[1]
    plain = render.render_step_terminal(lab, lab.steps[1], VARS, color=False)
    assert plain.startswith("Lab 05 · Backup & Restore — step 2 of 3: How big is it?")
    assert "**Question:** What is the true size" in plain
    assert "\x1b[" not in plain
    rich = render.render_step_terminal(lab, lab.steps[0], VARS, color=True, width=100)
    assert "\x1b[" in rich
    assert "clearsnapshot --all training" in re.sub(r"\x1b\[[0-9;]*m", "", rich)
    assert "Take a snapshot" in render.render_lab_terminal(lab, color=False)


def test_real_labs_build(tmp_path: Path) -> None:
    labs = shipped().labs
    written = render.build_site(tmp_path, labs=labs)
    assert len([p for p in written if p.suffix == ".html"]) == 1 + sum(1 + len(lab.steps) for lab in labs)


def test_aligned_table_cells_use_classes_not_inline_style() -> None:
    """The web lab's CSP refuses inline style attributes, so column alignment comes from lab.css."""
    html = render.markdown_html("| a | b | c |\n|:-:|--:|---|\n| 1 | 2 | 3 |\n", (), render.LIVE_LINKS)
    assert "style=" not in html
    assert '<th class="align-center">a</th>' in html and '<td class="align-right">2</td>' in html
    assert "<td>3</td>" in html
    css = (resources.site_dir() / "static" / "lab.css").read_text()
    assert all(f"td.align-{side}" in css for side in ("left", "center", "right"))
