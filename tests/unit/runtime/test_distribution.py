"""The Cassandra fetch: a verified cache is used as it is, even where it is read-only (a classroom
seat's toolchain); two fetches started at once download once. Maven is stood in for by a function
that writes a jar and its manifest the way `_download` does."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from dselab.runtime import distribution
from dselab.settings import Settings

VERSION = "0.0.1-test"


def fake_download(calls: list[str]):
    def download(version: str, target: Path, progress) -> distribution.Distribution:
        calls.append(version)
        time.sleep(0.3)  # long enough for a second caller to arrive while this one works
        staging = target.with_name(target.name + ".partial")
        (staging / "lib").mkdir(parents=True)
        jar = staging / "lib" / "a.jar"
        jar.write_bytes(b"jar")
        (staging / "MANIFEST.sha256.json").write_text(json.dumps({"a.jar": distribution._sha256(jar)}))
        staging.rename(target)
        return distribution.Distribution(version=version, lib_dir=target / "lib", source="maven cache")
    return download


def test_two_fetches_at_once_download_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(distribution, "_download", fake_download(calls))
    settings = Settings(home=tmp_path / "home", cache=tmp_path / "cache")
    got: list[distribution.Distribution] = []
    threads = [threading.Thread(target=lambda: got.append(distribution.fetched(VERSION, settings)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [VERSION]
    assert [d.lib_dir for d in got] == [tmp_path / "cache" / f"cassandra-{VERSION}" / "lib"] * 2


def test_a_verified_read_only_cache_is_used_without_a_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(distribution, "_download", fake_download(calls))
    settings = Settings(home=tmp_path / "home", cache=tmp_path / "cache")
    distribution.fetched(VERSION, settings)
    (tmp_path / "cache" / f"cassandra-{VERSION}.lock").unlink()
    (tmp_path / "cache").chmod(0o555)  # as a seat sees the classroom's toolchain cache
    try:
        again = distribution.fetched(VERSION, settings)
    finally:
        (tmp_path / "cache").chmod(0o755)
    assert calls == [VERSION] and again.source == "maven cache"
    assert not (tmp_path / "cache" / f"cassandra-{VERSION}.lock").exists()
