"""Labs and steps as plain data, read from lab roots. Reading never imports checks or touches a cluster.

A lab root is a folder with `labs/` and `checks/` (resources.lab_roots: the shipped content, then
`DSELAB_LABS`). A lab is `labs/<NN-slug>/lab.yaml` plus `steps/NN-slug.md` pages whose YAML front
matter says `id`, `title`, `solution` (the commands a student would type) and optionally
`question` (read-only steps are checked through the student's answer). Its checks are
`checks/labNN_slug.py` in the same root, or the file lab.yaml names under `checks:`; a
catalogue (dselab.catalogue) imports them and gives each lab its check functions.
All problems in all roots are collected and reported at once (mkdocs' habit), not one per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dselab.errors import UsageError
from dselab.settings import NODETOOLS

RUNTIMES = ("local", "docker")

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
NUMBER_REF = re.compile(r"[0-9]{1,4}")  # ASCII digits only: str.isdigit() also takes "²" and "٣"
STEP_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# A lab number is ASCII digits, optionally one letter after them: 05b is a lab of its own beside 05.
LAB_NUMBER = re.compile(r"[0-9]{1,4}[a-z]?")
LAB_ID = re.compile(LAB_NUMBER.pattern + r"-[a-z0-9][a-z0-9_-]{0,63}")
# libyaml's parser with PyYAML's safe constructor where PyYAML was built with it: the same values,
# read in a tenth of the time (every command reads every lab's files).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


# A step's check function: a check_engine.CheckFn (it takes a check_engine.CheckContext, which
# knows its Lab; naming that type here would make lab and check_engine import each other).
StepCheck = Callable[[Any], None]


class ContentError(UsageError):
    """The lab content itself is broken (a maintainer's error, reported all at once)."""


@dataclass(frozen=True)
class Step:
    id: str
    number: int
    title: str
    body: str  # Markdown with Jinja expressions (version-aware command forms)
    solution: tuple[str, ...]
    weight: int = 1
    question: str | None = None
    page: Path | None = None

    @property
    def needs_answer(self) -> bool:
        return self.question is not None


@dataclass(frozen=True)
class Lab:
    id: str  # "05-backup-restore"
    number: str  # "05"
    title: str
    summary: str
    steps: tuple[Step, ...]
    prerequisites: tuple[str, ...] = ()
    nodetool: str = "native"  # the scripts' nodetool for this lab: "3.11" or "native" (nodetool_choice)
    runtimes: tuple[str, ...] = RUNTIMES  # the runtimes its steps work on (lab.yaml `runtimes:`)
    # lab.yaml `data: environment`: its checks compare the tables with the environment's rows, so
    # `dselab start` writes them again when an earlier lab (05) changed them
    fresh_data: bool = False
    root: Path = field(default=Path("."))  # the lab's own folder, labs/<NN-slug>/
    check_module: Path | None = None  # its checks module, <lab root>/checks/<module>.py
    # step id (or check_engine.END_OF_LAB) -> its check; filled by the catalogue that imported check_module
    checks: Mapping[str, StepCheck] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def step(self, ref: str) -> Step:
        """A step by number (`1`, `01`) or id (`snapshot`)."""
        ref = ref.strip()
        number = ref_number(ref)
        for step in self.steps:
            if ref == step.id or number == step.number:
                return step
        valid = ", ".join(f"{s.number} ({s.id})" for s in self.steps)
        raise UsageError(f"lab {self.number} has no step {ref!r}; valid steps: {valid}")

    def select(self, refs: list[str] | tuple[str, ...]) -> list[Step]:
        """Resolve step references, reporting every unknown one at once."""
        if not refs:
            return list(self.steps)
        found, bad = [], []
        for ref in refs:
            try:
                found.append(self.step(ref))
            except UsageError:
                bad.append(ref)
        if bad:
            valid = ", ".join(f"{s.number} ({s.id})" for s in self.steps)
            raise UsageError(f"lab {self.number} has no step {', '.join(map(repr, bad))}; valid steps: {valid}")
        return found

    @property
    def max_score(self) -> int:
        return sum(s.weight for s in self.steps)


def _load_step(path: Path, meta: dict[str, Any], errors: list[str]) -> Step | None:
    text = path.read_text() if path.exists() else None
    if text is None:
        errors.append(f"{path}: missing step page")
        return None
    match = FRONT_MATTER.match(text)
    if not match:
        errors.append(f"{path}: no front matter (--- id/title/solution ---)")
        return None
    front = _yaml(match.group(1)) or {}
    for key in ("id", "title", "solution"):
        if key not in front:
            errors.append(f"{path}: front matter lacks {key!r}")
    if "id" in front and not (isinstance(front["id"], str) and STEP_ID.fullmatch(front["id"])):
        errors.append(f"{path}: step id {front['id']!r} is not 1-64 of a-z 0-9 _ - (ASCII)")
    if meta.get("id") and front.get("id") and meta["id"] != front["id"]:
        errors.append(f"{path}: id {front['id']!r} differs from lab.yaml's {meta['id']!r}")
    solution = front.get("solution") or []
    if isinstance(solution, str):
        solution = [solution]
    if errors and any(e.startswith(str(path)) for e in errors):
        return None
    return Step(
        id=front["id"], number=int(meta["number"]), title=front["title"], body=match.group(2),
        solution=tuple(solution), weight=int(meta.get("weight", 1)),
        question=front.get("question"), page=path,
    )


def default_module(lab_folder: str) -> str:
    """The checks module a lab uses unless lab.yaml names one: 05-backup-restore -> lab05_backup_restore.py."""
    return "lab" + lab_folder.replace("-", "_") + ".py"


def _checks_path(root: Path, lab_root: Path, meta: dict[str, Any], errors: list[str]) -> Path | None:
    name = str(meta.get("checks") or default_module(root.name))
    name = name if name.endswith(".py") else name + ".py"
    if "/" in name or "\\" in name or name.startswith("."):
        errors.append(f"{root / 'lab.yaml'}: checks: {name!r} must be a file name in {lab_root / 'checks'}")
        return None
    return lab_root / "checks" / name


def _load_lab(root: Path, lab_root: Path, errors: list[str]) -> Lab | None:
    meta_path = root / "lab.yaml"
    if not LAB_ID.fullmatch(root.name):
        errors.append(f"{root}: a lab folder is named NN-name or NNx-name "
                      "(ASCII digits, a letter or none, then a-z 0-9 _ -)")
        return None
    try:
        meta = _yaml(meta_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        errors.append(f"{meta_path}: {err}")
        return None
    steps = []
    for i, entry in enumerate(meta.get("steps") or [], start=1):
        entry.setdefault("number", i)
        step = _load_step(root / entry.get("page", ""), entry, errors)
        if step:
            steps.append(step)
    if not steps:
        errors.append(f"{meta_path}: a lab needs at least one step")
    ids = [s.id for s in steps]
    for dup in {i for i in ids if ids.count(i) > 1}:
        errors.append(f"{meta_path}: step id {dup!r} is used twice")
    nodetool = str(meta.get("nodetool", "native"))
    if nodetool not in NODETOOLS:
        errors.append(f"{meta_path}: nodetool: {nodetool!r} is not one of {', '.join(NODETOOLS)}")
    runtimes = tuple(str(r) for r in meta.get("runtimes") or RUNTIMES)
    for bad in (r for r in runtimes if r not in RUNTIMES):
        errors.append(f"{meta_path}: runtimes: {bad!r} is not one of {', '.join(RUNTIMES)}")
    data = meta.get("data")
    if data not in (None, "environment"):
        errors.append(f"{meta_path}: data: {data!r} is not 'environment' (or leave it out)")
    return Lab(
        id=root.name, number=root.name.split("-", 1)[0], title=meta.get("title", root.name),
        summary=meta.get("summary", ""), steps=tuple(steps),
        prerequisites=tuple(meta.get("prerequisites") or ()), nodetool=nodetool, runtimes=runtimes, root=root,
        fresh_data=data == "environment", check_module=_checks_path(root, lab_root, meta, errors),
    )


def _duplicates(labs: list[Lab], errors: list[str]) -> None:
    """Two labs with one id or one number would make `dselab check 05` ambiguous."""
    for attr in ("id", "number"):
        seen: dict[str, Lab] = {}
        for lab in labs:
            key = number_key(lab.number) if attr == "number" else lab.id
            if key in seen:
                errors.append(f"{lab.root}: lab {attr} {getattr(lab, attr)!r} is also used by {seen[key].root}")
            else:
                seen[key] = lab


def read_labs(roots: Iterable[Path], errors: list[str]) -> list[Lab]:
    """Every lab of the given lab roots, without their checks; problems are added to `errors`."""
    labs = []
    for lab_root in roots:
        labs_dir = lab_root / "labs"
        if not labs_dir.is_dir():
            errors.append(f"{lab_root}: not a lab root (it has no labs/ folder)")
            continue
        for root in sorted(p for p in labs_dir.iterdir() if (p / "lab.yaml").exists()):
            lab = _load_lab(root, lab_root, errors)
            if lab:
                labs.append(lab)
    _duplicates(labs, errors)
    return labs


def number_key(number: str) -> str:
    """A lab number without its leading zeros (`05` and `5` are one lab; `05b` is `5b`)."""
    digits = number.rstrip("abcdefghijklmnopqrstuvwxyz")
    return str(int(digits)) + number[len(digits):]  # LAB_ID: the digits are ASCII, at least one


def ref_number(ref: str) -> int | None:
    """The number a step or lab reference names (`1`, `05`), or None when it is no plain
    ASCII number (ids are ASCII; a reference is compared with them as it is)."""
    return int(ref) if NUMBER_REF.fullmatch(ref) else None


def find_lab(labs: Sequence[Lab], ref: str) -> Lab:
    """A lab among `labs` by number (`05`, `5`, `05b`) or full id (`05-backup-restore`): `05` never
    names `05b`."""
    ref = ref.strip()
    key = number_key(ref) if LAB_NUMBER.fullmatch(ref) else None
    for lab in labs:
        if ref == lab.id or (key is not None and key == number_key(lab.number)):
            return lab
    valid = ", ".join(f"{lab.number} ({lab.id})" for lab in labs) or "none"
    raise UsageError(f"no lab {ref!r}; valid labs: {valid}")
