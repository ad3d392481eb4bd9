"""The small node profile (classroom seats): smaller heap, caches and JIT; the default is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab.errors import UsageError
from dselab.runtime.local_config import SMALL_NODE_JVM, cassandra_yaml, lab_specs, server_jvm_args
from dselab.runtime.local_settings import LocalSettings


def test_small_profile_from_the_environment_sets_heap_yaml_and_jvm(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path))
    monkeypatch.setenv("DSELAB_NODE_PROFILE", "small")
    monkeypatch.delenv("DSELAB_HEAP_MB", raising=False)
    spec = lab_specs(LocalSettings.from_env())["dse-seed"]
    assert spec.profile == "small" and spec.heap_mb == 256
    assert "memtable_heap_space: 32MiB" in cassandra_yaml(spec) and "key_cache_size: 0MiB" in cassandra_yaml(spec)
    args = server_jvm_args(spec, None)
    assert "-Xmx256m" in args and all(flag in args for flag in SMALL_NODE_JVM) and "-XX:+UseG1GC" not in args


def test_default_profile_keeps_the_single_student_settings(tmp_path: Path) -> None:
    spec = lab_specs(LocalSettings(home=tmp_path))["dse-seed"]
    assert spec.profile == "default" and spec.heap_mb == 512
    assert "memtable_heap_space" not in cassandra_yaml(spec)
    assert "-XX:+UseG1GC" in server_jvm_args(spec, None)


def test_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown node profile 'tiny'"):
        LocalSettings(home=tmp_path, profile="tiny")
