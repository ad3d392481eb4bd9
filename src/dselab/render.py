"""Step pages as HTML (the web lab and the static site) and as terminal text.

A step's body is a Jinja template first (templating.render_text: sandboxed, StrictUndefined, so
a missing variable fails loudly), then Markdown (markdown-it-py, "commonmark" + tables, raw HTML off so any
`<tag>` in a page is shown as text). Pages are laid out by the Jinja2 templates in site/templates
(autoescape on). Links of the form `lab:05` or `lab:05/2` in a page point at another lab or step.

The static site has no running cluster, so it renders each page for the offline default
(runtime.distribution.DEFAULT_VERSION, local runtime) and for DSE 5.1 (Cassandra 3.11, docker runtime), and where the
two differ it shows both forms side by side.
"""

from __future__ import annotations

import difflib
import io
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.token import Token
from markupsafe import Markup

from dselab import resources
from dselab.catalogue import load_all
from dselab.errors import UsageError
from dselab.lab import Lab, Step, find_lab
from dselab.runtime.distribution import DEFAULT_VERSION
from dselab.templating import render_text, version_vars

OFFLINE_VARS: dict[str, Any] = version_vars(DEFAULT_VERSION, "local")
LEGACY_VARS: dict[str, Any] = version_vars("3.11", "docker")


# -- links --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """URLs between pages: absolute paths in the web lab, relative `.html` files in the static site."""

    root: str = "/"
    static_site: bool = False

    def index(self) -> str:
        return self.root + "index.html" if self.static_site else self.root

    def lab(self, lab: Lab) -> str:
        return f"{self.root}labs/{lab.id}/" + ("index.html" if self.static_site else "")

    def step(self, lab: Lab, step: Step) -> str:
        return f"{self.root}labs/{lab.id}/{step.id}" + (".html" if self.static_site else "")

    def static(self, name: str) -> str:
        return f"{self.root}static/{name}"


LIVE_LINKS = Links()


def resolve_lab_link(href: str, labs: Sequence[Lab], links: Links) -> str:
    """`lab:05` -> the lab's page, `lab:05/2` or `lab:05/snapshot` -> that step's page."""
    lab_ref, _, step_ref = href.removeprefix("lab:").partition("/")
    lab = find_lab(labs, lab_ref)
    return links.step(lab, lab.step(step_ref)) if step_ref else links.lab(lab)


# -- Markdown -----------------------------------------------------------------------------------


def _fence(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    """A code block with a copy button (site/static/lab.js wires it up)."""
    token = tokens[idx]
    lang = unescapeAll(token.info).strip().split(" ")[0] if token.info else ""
    cls = f' class="language-{escapeHtml(lang)}"' if lang else ""
    return (
        '<div class="codeblock"><button type="button" class="copy" aria-label="Copy to clipboard">'
        f"Copy</button><pre><code{cls}>{escapeHtml(token.content)}</code></pre></div>\n"
    )


def _link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if href.startswith("lab:"):
        try:
            token.attrSet("href", resolve_lab_link(href, env["labs"], env["links"]))
        except UsageError as err:
            raise UsageError(f"{env.get('where', 'page')}: link {href!r}: {err.message}") from None
    return str(self.renderToken(tokens, idx, options, env))


def _cell_open(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    """A table cell aligned by class, not by a style attribute (the web lab's CSP allows no inline style)."""
    token = tokens[idx]
    style = str(token.attrGet("style") or "")
    if style.startswith("text-align:"):
        token.attrs.pop("style")
        token.attrSet("class", "align-" + style.removeprefix("text-align:"))
    return str(self.renderToken(tokens, idx, options, env))


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("fence", _fence)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("th_open", _cell_open)
    md.add_render_rule("td_open", _cell_open)
    return md


def _blocks(text: str, env: dict[str, Any]) -> list[str]:
    """The HTML of each top-level block, so two renderings can be compared block by block."""
    md = _markdown()
    tokens = md.parse(text, env)
    blocks, start, depth = [], 0, 0
    for i, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            blocks.append(md.renderer.render(tokens[start:i + 1], md.options, env))
            start = i + 1
    return blocks


def markdown_html(text: str, labs: Sequence[Lab], links: Links, where: str = "page") -> Markup:
    """Markdown (already Jinja-rendered) to HTML."""
    return Markup("".join(_blocks(text, {"labs": labs, "links": links, "where": where})))


# -- version variants ---------------------------------------------------------------------------


def variant_label(variables: dict[str, Any]) -> str:
    name = "DSE 5.1 / Cassandra 3.11" if variables["legacy"] else f"Cassandra {variables['version']}"
    if variables.get("client_legacy") and not variables["legacy"]:
        name += " with DSE 5.1's nodetool (3.11)"
    return f"{name} ({variables['runtime']} runtime)"


@dataclass
class Segment:
    """A run of page content: the same for every version, or one form per version."""

    html: Markup = field(default_factory=Markup)
    forms: list[tuple[str, Markup]] = field(default_factory=list)  # (label, html) when versions differ


def _segments(main: list[str], other: list[str] | None, labels: tuple[str, str]) -> list[Segment]:
    if other is None or main == other:
        return [Segment(html=Markup("".join(main)))]
    out: list[Segment] = []
    matcher = difflib.SequenceMatcher(a=main, b=other, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(Segment(html=Markup("".join(main[i1:i2]))))
            continue
        none = "<p class=\"muted\">(nothing for this version)</p>"
        out.append(Segment(forms=[(labels[0], Markup("".join(main[i1:i2]) or none)),
                                  (labels[1], Markup("".join(other[j1:j2]) or none))]))
    return out


def body_segments(lab: Lab, step: Step, variables: dict[str, Any], labs: Sequence[Lab], links: Links,
                  alternative: dict[str, Any] | None = None) -> list[Segment]:
    """The step's body as HTML; with `alternative`, blocks that differ show both command forms."""
    where = f"step {step.number} ({step.id}) of lab {lab.number}"
    env = {"labs": labs, "links": links, "where": where}
    main = _blocks(render_text(step.body, variables, where=where), env)
    other = _blocks(render_text(step.body, alternative, where=where), env) if alternative else None
    labels = (variant_label(variables), variant_label(alternative or variables))
    return _segments(main, other, labels)


def solution_forms(step: Step, variables: dict[str, Any],
                   alternative: dict[str, Any] | None = None) -> list[tuple[str, list[str]]]:
    """The solution commands: one list, or one per version when they differ."""
    where = f"solution of step {step.id}"
    main = [render_text(cmd, variables, where=where) for cmd in step.solution]
    if alternative:
        other = [render_text(cmd, alternative, where=where) for cmd in step.solution]
        if other != main:
            return [(variant_label(variables), main), (variant_label(alternative), other)]
    return [("", main)]


# -- HTML pages ---------------------------------------------------------------------------------


def md_inline(text: str) -> Markup:
    """Short Markdown (a lab summary) as inline HTML; raw HTML in it stays text."""
    return Markup(_markdown().renderInline(text))


@cache
def jinja_env(templates: Path | None = None) -> Environment:
    """The site's templates (the packaged site/templates unless `templates` is given)."""
    templates = templates or resources.site_dir() / "templates"
    env = Environment(loader=FileSystemLoader(str(templates)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["md_inline"] = md_inline
    return env


def _neighbours(lab: Lab, step: Step, labs: Sequence[Lab], links: Links) -> dict[str, Any]:
    """Previous/next links; past the last step the next lab (links between labs)."""
    i = next((k for k, s in enumerate(lab.steps) if s.id == step.id), 0)

    def to(other: Step) -> tuple[str, str]:
        return links.step(lab, other), f"Step {other.number}: {other.title}"

    prev = to(lab.steps[i - 1]) if i > 0 else (links.lab(lab), f"Lab {lab.number} overview")
    if i + 1 < len(lab.steps):
        nxt = to(lab.steps[i + 1])
    else:
        later = [other for other in labs if other.id > lab.id]
        nxt = (links.lab(later[0]), f"Lab {later[0].number}: {later[0].title}") if later \
            else (links.index(), "All labs")
    return {"prev": prev, "next": nxt}


def _common(variables: dict[str, Any], labs: Sequence[Lab], links: Links, live: bool) -> dict[str, Any]:
    return {"variables": variables, "labs": labs, "links": links, "live": live,
            "version_label": variant_label(variables)}


def render_step_html(lab: Lab, step: Step, variables: dict[str, Any], *, live: bool,
                     labs: Sequence[Lab] | None = None, links: Links = LIVE_LINKS,
                     alternative: dict[str, Any] | None = None,
                     progress: dict[str, Any] | None = None, frame: dict[str, Any] | None = None) -> str:
    """One step page. live=True adds the Check button, the answer field, the status box, progress.
    `frame`: another page around it (`layout`: its template, plus that template's variables)."""
    labs = labs or (lab,)
    where = f"question of step {step.id}"
    return jinja_env().get_template("step.html").render(
        **_common(variables, labs, links, live), **_neighbours(lab, step, labs, links),
        lab=lab, step=step, segments=body_segments(lab, step, variables, labs, links, alternative),
        question=markdown_html(render_text(step.question, variables, where=where), labs, links, where)
        if step.question else None,
        solutions=solution_forms(step, variables, alternative), alternative=alternative,
        progress=progress or {}, alt_label=variant_label(alternative) if alternative else "", **(frame or {}),
    )


def render_lab_html(lab: Lab, variables: dict[str, Any], *, live: bool, labs: Sequence[Lab] | None = None,
                    links: Links = LIVE_LINKS, progress: dict[str, Any] | None = None,
                    frame: dict[str, Any] | None = None) -> str:
    labs = labs or (lab,)
    prereqs = [find_lab(labs, ref) for ref in lab.prerequisites if _known(labs, ref)]
    return jinja_env().get_template("lab.html").render(
        **_common(variables, labs, links, live), lab=lab, prerequisites=prereqs, progress=progress or {},
        **(frame or {}),
    )


def _known(labs: Sequence[Lab], ref: str) -> bool:
    try:
        find_lab(labs, ref)
    except UsageError:
        return False
    return True


def render_index_html(labs: Sequence[Lab], variables: dict[str, Any], live: bool,
                      *, links: Links = LIVE_LINKS) -> str:
    return jinja_env().get_template("index.html").render(**_common(variables, labs, links, live))


def render_not_found_html(message: str, labs: Sequence[Lab], variables: dict[str, Any],
                          *, lab: Lab | None = None, links: Links = LIVE_LINKS) -> str:
    """The 404 page: what was wrong (a UsageError message with the valid ids) and links to them."""
    return jinja_env().get_template("not_found.html").render(
        **_common(variables, labs, links, True), message=message, lab=lab,
    )


# -- static site --------------------------------------------------------------------------------


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    written.append(path)


def build_site(out_dir: Path, variables: dict[str, Any] | None = None, *,
               labs: Sequence[Lab] | None = None) -> list[Path]:
    """Write the static site: index, a page per lab and per step (solutions behind a reveal), assets."""
    variables = variables or OFFLINE_VARS
    labs = tuple(labs) if labs is not None else load_all()
    alternative = OFFLINE_VARS if variables["legacy"] else LEGACY_VARS
    out_dir = Path(out_dir)
    written: list[Path] = []
    _write(out_dir / "index.html",
           render_index_html(labs, variables, False, links=Links("", static_site=True)), written)
    deep = Links("../../", static_site=True)
    for lab in labs:
        _write(out_dir / "labs" / lab.id / "index.html",
               render_lab_html(lab, variables, live=False, labs=labs, links=deep), written)
        for step in lab.steps:
            html = render_step_html(lab, step, variables, live=False, labs=labs, links=deep,
                                    alternative=alternative)
            _write(out_dir / "labs" / lab.id / f"{step.id}.html", html, written)
    for asset in sorted((resources.site_dir() / "static").iterdir()):
        if asset.is_file():
            target = out_dir / "static" / asset.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(asset, target)
            written.append(target)
    return written


# -- terminal -----------------------------------------------------------------------------------


def _terminal_text(lab: Lab, step: Step, variables: dict[str, Any]) -> tuple[str, str, str]:
    where = f"step {step.number} ({step.id}) of lab {lab.number}"
    header = f"Lab {lab.number} · {lab.title} — step {step.number} of {len(lab.steps)}: {step.title}"
    body = render_text(step.body, variables, where=where).strip()
    if step.question:
        body += "\n\n**Question:** " + render_text(step.question, variables, where=where).strip()
    footer = f"Check it with: dselab check {lab.number} {step.number}"
    if step.question:
        footer = f'Answer it with: dselab answer {lab.number} {step.number} "<your answer>", then c' + footer[1:]
    if step.number < len(lab.steps):
        footer += f"  ·  next: dselab show {lab.number} {step.number + 1}"
    return header, body, footer


def _rich(parts: Sequence[Any], width: int | None) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width or shutil.get_terminal_size().columns)
    for part in parts:
        console.print(part)
    return buffer.getvalue()


def render_step_terminal(lab: Lab, step: Step, variables: dict[str, Any], *, color: bool | None = None,
                         width: int | None = None) -> str:
    """The step for a terminal: rich Markdown on a TTY, the plain Markdown text otherwise."""
    header, body, footer = _terminal_text(lab, step, variables)
    if not (sys.stdout.isatty() if color is None else color):
        return f"{header}\n{'=' * min(len(header), 100)}\n\n{body}\n\n{footer}\n"
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.text import Text

    return _rich([Rule(Text(header, style="bold")), Markdown(body), Text(footer, style="dim")], width)


def render_lab_terminal(lab: Lab, *, color: bool | None = None, width: int | None = None) -> str:
    """A lab's overview: summary and its steps."""
    lines = [f"Lab {lab.number}: {lab.title}", "", lab.summary.strip(), ""] if lab.summary else \
        [f"Lab {lab.number}: {lab.title}", ""]
    if lab.prerequisites:
        lines += [f"Before this lab: {', '.join(lab.prerequisites)}", ""]
    lines += [f"  {s.number:>2}. {s.title}" + ("  (asks a question)" if s.question else "")
              for s in lab.steps]
    lines += ["", f"Start with: dselab show {lab.number} 1"]
    text = "\n".join(lines) + "\n"
    if not (sys.stdout.isatty() if color is None else color):
        return text
    from rich.text import Text

    return _rich([Text(text)], width)
