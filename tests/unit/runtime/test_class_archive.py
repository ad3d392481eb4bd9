"""Class archives (AppCDS): a JVM dumps one only into a folder of its user's, it is put in place
only after a clean exit, and one is mapped only when nobody but its user or root could have
written it (an archive is loaded as code)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dselab.runtime import class_archive
from dselab.runtime.class_archive import DUMP_FLAG

JARS = "/opt/c/lib/a.jar:/opt/c/lib/b.jar"
MAIN = "org.apache.cassandra.tools.NodeTool"


def archive(tmp_path: Path, agent: bool = False) -> class_archive.Archive:
    folder = tmp_path / "class-archives"
    return class_archive.for_jvm(folder, "/usr/bin/java", JARS, MAIN, agent)


def dumped(arch: class_archive.Archive, owner: str = "node-a") -> Path:
    """What a JVM started with `arch.flags(owner)` leaves at its exit."""
    dump = class_archive.dump_file_of(arch.flags(owner))
    assert dump is not None
    dump.write_bytes(b"archive")
    return dump


def test_without_an_archive_the_jvm_dumps_one_beside_where_it_will_live(tmp_path: Path) -> None:
    arch = archive(tmp_path)
    flags = arch.flags("node-a")
    assert flags == [DUMP_FLAG + str(arch.dump_file("node-a"))]
    assert arch.dump_file("node-a").parent == arch.path.parent == tmp_path / "class-archives"
    assert arch.dump_file("node-a") != arch.dump_file("node-b")  # JVMs dumping at once never share a file
    assert arch.path.name.startswith("NodeTool-") and arch.path.suffix == ".jsa"


def test_a_clean_exit_puts_the_archive_in_place_and_later_jvms_map_it(tmp_path: Path) -> None:
    arch = archive(tmp_path)
    class_archive.settle(dumped(arch), clean=True)
    assert arch.path.read_bytes() == b"archive"
    assert arch.flags("node-b") == [f"-XX:SharedArchiveFile={arch.path}"]
    assert list(arch.path.parent.iterdir()) == [arch.path]


@pytest.mark.parametrize("content", [b"half an archive", b""])
def test_a_killed_jvm_or_an_empty_file_is_never_put_in_place(tmp_path: Path, content: bytes) -> None:
    arch = archive(tmp_path)
    dump = dumped(arch)
    dump.write_bytes(content)
    class_archive.settle(dump, clean=not content)  # killed while writing; or exited having written nothing
    assert not arch.path.exists() and not dump.exists()


def test_a_node_with_its_java_agent_dumps_and_maps_with_the_agent_allowed(tmp_path: Path) -> None:
    arch = archive(tmp_path, agent=True)
    assert arch.flags("n")[:2] == ["-XX:+UnlockDiagnosticVMOptions", "-XX:+AllowArchivingWithJavaAgent"]
    class_archive.settle(dumped(arch), clean=True)
    assert arch.flags("n")[2:] == [f"-XX:SharedArchiveFile={arch.path}"]
    assert archive(tmp_path).path != arch.path  # with and without the agent: two archives


def test_the_archive_follows_the_java_and_the_jars(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    one = class_archive.for_jvm(folder, "/usr/bin/java", JARS, MAIN)
    assert class_archive.for_jvm(folder, "/usr/bin/java", JARS, MAIN) == one
    assert class_archive.for_jvm(folder, "/usr/bin/java", JARS + ":/opt/c/lib/c.jar", MAIN) != one
    assert class_archive.for_jvm(folder, "/usr/lib/jvm/other/bin/java", JARS, MAIN) != one


@pytest.mark.parametrize("spoil", ["group-writable", "link", "folder-writable"])
def test_an_archive_someone_else_could_have_written_is_not_mapped(tmp_path: Path, spoil: str) -> None:
    arch = archive(tmp_path)
    class_archive.settle(dumped(arch), clean=True)
    if spoil == "group-writable":
        arch.path.chmod(0o664)
    elif spoil == "link":
        real = tmp_path / "elsewhere.jsa"
        arch.path.rename(real)
        arch.path.symlink_to(real)
    else:
        arch.path.parent.chmod(0o777)
    flags = arch.flags("n")
    assert not any(f.startswith("-XX:SharedArchiveFile") for f in flags)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_an_archive_owned_by_another_user_is_not_mapped(tmp_path: Path) -> None:
    arch = archive(tmp_path)
    class_archive.settle(dumped(arch), clean=True)
    os.chown(arch.path, 65534, 65534)
    assert not any(f.startswith("-XX:SharedArchiveFile") for f in arch.flags("n"))


def test_no_flag_at_all_where_the_folder_cannot_be_ours(tmp_path: Path) -> None:
    target = tmp_path / "real"
    target.mkdir()
    (tmp_path / "linked").symlink_to(target)
    arch = class_archive.for_jvm(tmp_path / "linked", "/usr/bin/java", JARS, MAIN)
    assert arch.flags("n") == []  # a linked folder: neither mapped nor dumped into


def test_dumps_left_a_day_ago_by_jvms_that_never_exited_cleanly_are_dropped(tmp_path: Path) -> None:
    arch = archive(tmp_path)
    old, fresh = dumped(arch, "old"), dumped(arch, "fresh")
    day_ago = time.time() - 2 * class_archive.STALE_DUMP_S
    os.utime(old, (day_ago, day_ago))
    arch.flags("another")
    assert not old.exists() and fresh.exists()


def test_the_dump_file_is_read_back_from_a_command_line() -> None:
    argv = ["java", "-Xmx1g", DUMP_FLAG + "/x/a.jsa.1.dump", "-cp", "j"]
    assert class_archive.dump_file_of(argv) == Path("/x/a.jsa.1.dump")
    assert class_archive.dump_file_of(["java", "-XX:SharedArchiveFile=/x/a.jsa"]) is None
    class_archive.settle(None, clean=True)  # nothing was dumped: nothing to do


def test_switched_off_no_flag_and_no_folder(tmp_path: Path) -> None:
    arch = class_archive.for_jvm(tmp_path / "a", "/usr/bin/java", JARS, MAIN, enabled=False)
    assert arch.flags("n") == [] and not (tmp_path / "a").exists()


def test_no_dump_under_a_file_size_cap_an_archive_would_overrun(tmp_path: Path) -> None:
    """A classroom observer runs under RLIMIT_FSIZE (its output cap): a JVM that dumped there
    would die of SIGXFSZ as it exits, and its nodetool call would look failed."""
    import resource

    arch = archive(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, hard))
    try:
        assert arch.flags("observer") == []
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert arch.flags("observer") == [DUMP_FLAG + str(arch.dump_file("observer"))]
