"""The catalogue: the labs of some lab roots, each with its check functions, loaded in one go.

Callers hold a Catalogue and pass it on; tests build their own from tests/example_labroot or a
tmp folder, so no test sees another's labs or checks. `Catalogue.load` reads every lab
(dselab.lab), executes each lab's checks module (dselab.check_modules) and reports every problem
of every root at once as one ContentError. Loading twice gives two independent catalogues.

`default()` is the catalogue of the installed content plus DSELAB_LABS (resources.lab_roots),
loaded once per set of roots, for the front ends (CLI, servers) that build it at their edge;
`get_lab` and `load_all` are thin wrappers over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dselab import resources
from dselab.check_modules import attach_checks
from dselab.lab import ContentError, Lab, StepCheck, find_lab, read_labs

DEFAULT_LAB = "05"  # the lab a classroom's seats start unless --lab names another


@dataclass(frozen=True)
class Catalogue:
    roots: tuple[Path, ...]
    labs: tuple[Lab, ...]

    @classmethod
    def load(cls, roots: Iterable[Path]) -> Catalogue:
        """Every lab of the lab roots, with its checks; every problem raised at once as a ContentError."""
        roots = tuple(roots)
        errors: list[str] = []
        labs = attach_checks(read_labs(roots, errors), errors)
        if errors:
            raise ContentError("lab content has errors:\n  " + "\n  ".join(errors))
        return cls(roots, tuple(labs))

    def lab(self, ref: str) -> Lab:
        """A lab by number (`05`, `5`) or full id (`05-backup-restore`); a UsageError lists the valid ones."""
        return find_lab(self.labs, ref)

    def check_for(self, lab_id: str, step_id: str) -> StepCheck | None:
        """The check of one step (or of check_engine.END_OF_LAB) of one lab, if it has one."""
        lab = next((lab for lab in self.labs if lab.id == lab_id), None)
        return lab.checks.get(step_id) if lab is not None else None

    @property
    def checks(self) -> Mapping[tuple[str, str], StepCheck]:
        """Every registered check by (lab id, step id)."""
        return {(lab.id, step_id): fn for lab in self.labs for step_id, fn in lab.checks.items()}


@cache
def _loaded(roots: tuple[Path, ...]) -> Catalogue:
    return Catalogue.load(roots)


def default() -> Catalogue:
    """The catalogue of resources.lab_roots() (the shipped content, then DSELAB_LABS), loaded once per set of roots."""
    return _loaded(resources.lab_roots())


def get_lab(ref: str) -> Lab:
    """A lab of the default catalogue by number or id."""
    return default().lab(ref)


def load_all() -> tuple[Lab, ...]:
    """Every lab of the default catalogue."""
    return default().labs
