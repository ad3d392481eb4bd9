"""read_bytes on the local runtime: at most N bytes of a regular file, never a FIFO (which would block)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dselab.errors import EnvironmentProblem, UsageError
from dselab.runtime.local import LocalRuntime
from dselab.runtime.local_settings import LocalSettings


def runtime_with_data(tmp_path: Path) -> tuple[LocalRuntime, Path]:
    runtime = LocalRuntime("lab", settings=LocalSettings(home=tmp_path, loopback="127.0.79"))
    data = runtime.spec("dse-seed").data_dir
    (data / "training" / "t-1").mkdir(parents=True)
    return runtime, data


def test_reads_at_most_the_limit_of_a_binary_file(tmp_path: Path) -> None:
    runtime, data = runtime_with_data(tmp_path)
    (data / "training/t-1/nb-1-big-Data.db").write_bytes(bytes(range(256)) * 4)
    assert runtime.read_bytes("dse-seed", "training/t-1/nb-1-big-Data.db", 2048) == bytes(range(256)) * 4
    assert runtime.read_bytes("dse-seed", "training/t-1/nb-1-big-Data.db", 3) == b"\x00\x01\x02"
    assert runtime.read_bytes("dse-seed", "training/t-1/nb-1-big-Data.db", -1) == b""


def test_a_fifo_is_refused_at_once_and_a_missing_file_is_not_found(tmp_path: Path) -> None:
    runtime, data = runtime_with_data(tmp_path)
    os.mkfifo(data / "training/t-1/nb-9-big-Data.db")
    with pytest.raises(EnvironmentProblem, match="not a regular file"):  # safe_files.RefusedPath
        runtime.read_bytes("dse-seed", "training/t-1/nb-9-big-Data.db", 100)
    with pytest.raises(FileNotFoundError):
        runtime.read_bytes("dse-seed", "training/t-1/nb-8-big-Data.db", 100)


def test_paths_may_not_leave_the_data_dir(tmp_path: Path) -> None:
    runtime, _ = runtime_with_data(tmp_path)
    with pytest.raises(UsageError):
        runtime.read_bytes("dse-seed", "../../../../etc/passwd", 100)
