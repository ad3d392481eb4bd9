"""The shipped labs (labs/ and checks/ of the content folder) as one catalogue, loaded once for the tests that read them."""

from __future__ import annotations

from functools import cache

from dselab import resources
from dselab.catalogue import Catalogue
from dselab.lab import Lab


@cache
def shipped() -> Catalogue:
    return Catalogue.load([resources.content_root()])


def shipped_lab(ref: str) -> Lab:
    return shipped().lab(ref)
