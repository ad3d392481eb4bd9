"""Where a seat's cgroups go: only below the server's own cgroup, in v1 and v2 layouts.

The layouts are faked in a temp folder (mount table, /proc/self/cgroup, the hierarchy's folders);
the last tests use this host's real cgroups when it offers them and we are root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dselab.classroom.host import cgroups, limits
from dselab.classroom.host.cgroups import V1, V2, Host, Mount, Settings

# The mount table and /proc/self/cgroup of a hybrid host (this build machine's, trimmed).
HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
HYBRID_CGROUP = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/f8ef\n1:cpu:/\n0::/\n"
SETTINGS = Settings(memory_bytes=2000 << 20, pids=840, cpu_weight=100)


def test_mountinfo_and_proc_cgroup_are_read_as_the_kernel_writes_them() -> None:
    mounts = list(cgroups.parse_mountinfo(HYBRID_MOUNTINFO))
    assert [(m.point.name, m.fstype) for m in mounts] == [
        ("cpu", "cgroup"), ("memory", "cgroup"), ("pids", "cgroup"), ("systemd", "cgroup"), ("unified", "cgroup2")]
    assert "memory" in mounts[1].options and mounts[1].writable and mounts[1].root == "/"
    own = cgroups.parse_proc_cgroup(HYBRID_CGROUP)
    assert own["memory"] == "/process_api/f8ef" and own["pids"] == "/" and own[V2] == "/"
    assert "name=systemd" in own  # named hierarchies are kept apart from controllers


def _v1(tmp: Path, own: dict[str, str], options: str = "rw") -> Host:
    mounts = []
    for name, path in own.items():
        point = tmp / name.replace(",", "_")
        (point / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        mounts.append(Mount(point, "/", "cgroup", frozenset({*options.split(","), *name.split(",")})))
    return Host(tuple(mounts), {c: p for name, p in own.items() for c in name.split(",")})


def test_v1_seats_go_below_our_own_cgroup_of_each_controller(tmp_path: Path) -> None:
    host = _v1(tmp_path, {"memory": "/process_api/f8ef", "pids": "/", "cpu,cpuacct": "/server.slice/x"})
    found = {b.controllers: b for b in cgroups.bases(host)}
    assert set(found) == {("memory",), ("pids",), ("cpu",)}
    assert found[("memory",)].path == tmp_path / "memory/process_api/f8ef"
    assert found[("pids",)].path == tmp_path / "pids"
    assert found[("cpu",)].path == tmp_path / "cpu_cpuacct/server.slice/x"
    assert all(b.version == V1 for b in found.values())
    assert found[("memory",)].seat_dir("dsl-ann") == tmp_path / "memory/process_api/f8ef/dselab-seat-dsl-ann"


def test_read_only_or_missing_hierarchies_offer_nothing(tmp_path: Path) -> None:
    assert cgroups.bases(_v1(tmp_path / "ro", {"memory": "/", "pids": "/"}, options="ro")) == []
    assert cgroups.bases(Host(())) == []
    gone = _v1(tmp_path / "gone", {"memory": "/a"})
    (tmp_path / "gone/memory/a").rmdir()  # our cgroup is not in this mount (another namespace's view)
    assert cgroups.bases(gone) == []


def test_a_mount_of_a_subtree_maps_our_path_below_its_root(tmp_path: Path) -> None:
    """A container that bind-mounts its own subtree: /proc/self/cgroup names the full path."""
    (tmp_path / "memory/seats").mkdir(parents=True)
    mount = Mount(tmp_path / "memory", "/docker/abc", "cgroup", frozenset({"rw", "memory"}))
    inside = Host((mount,), {"memory": "/docker/abc/seats"})
    outside = Host((mount,), {"memory": "/docker/other"})
    assert [b.path for b in cgroups.bases(inside)] == [tmp_path / "memory/seats"]
    assert cgroups.bases(outside) == []


def _v2(tmp: Path, own: str, controllers: str = "cpuset cpu io memory pids") -> Host:
    folder = tmp / own.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cgroup.controllers").write_text(controllers + "\n")
    (folder / "cgroup.subtree_control").write_text("")
    return Host((Mount(tmp, "/", "cgroup2", frozenset({"rw"})),), {V2: own})


def test_v2_one_folder_below_ours_with_the_controllers_it_offers(tmp_path: Path) -> None:
    (base,) = cgroups.bases(_v2(tmp_path, "/system.slice/dselab.service"))
    assert base.version == V2 and base.path == tmp_path / "system.slice/dselab.service"
    assert base.controllers == ("memory", "pids", "cpu")
    assert cgroups.bases(_v2(tmp_path / "none", "/x", controllers="io")) == []


def test_v2_a_server_already_moved_to_its_leaf_keeps_the_parent_as_base(tmp_path: Path) -> None:
    host = _v2(tmp_path, "/user.slice/session-3.scope")
    (tmp_path / "user.slice/session-3.scope/dselab-server").mkdir()
    moved = Host(host.mounts, {V2: "/user.slice/session-3.scope/dselab-server"})
    assert [b.path for b in cgroups.bases(moved)] == [tmp_path / "user.slice/session-3.scope"]


def test_hybrid_takes_v1_controllers_first_and_v2_for_the_rest(tmp_path: Path) -> None:
    v1 = _v1(tmp_path / "v1", {"memory": "/m"})
    v2 = _v2(tmp_path / "v2", "/s")
    found = cgroups.bases(Host(v1.mounts + v2.mounts, {**v1.own, **v2.own}))
    assert [(b.version, b.controllers) for b in found] == [(V1, ("memory",)), (V2, ("pids", "cpu"))]


def test_the_limit_files_in_each_version() -> None:
    v1 = dict(SETTINGS.files(cgroups.Base(V1, Path("/x"), ("memory", "pids", "cpu"))))
    assert v1["memory.limit_in_bytes"] == str(2000 << 20) and v1["memory.memsw.limit_in_bytes?"] == str(2000 << 20)
    assert v1["pids.max"] == "840" and v1["cpu.shares"] == "1024"
    v2 = dict(SETTINGS.files(cgroups.Base(V2, Path("/x"), ("memory", "pids", "cpu"))))
    assert v2 == {"memory.max": str(2000 << 20), "memory.swap.max?": "0", "pids.max": "840", "cpu.weight": "100"}


def test_ensure_writes_the_limits_and_hands_controllers_down_in_v2(tmp_path: Path) -> None:
    (base,) = cgroups.bases(_v2(tmp_path, "/srv"))
    (tmp_path / "srv/cgroup.procs").write_text("")
    folder = cgroups.ensure(base, "dsl-ann", SETTINGS)
    assert folder == tmp_path / "srv/dselab-seat-dsl-ann"
    assert (tmp_path / "srv/cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (folder / "memory.max").read_text() == str(2000 << 20) and (folder / "pids.max").read_text() == "840"
    assert not (folder / "memory.swap.max").exists()  # optional files the kernel does not offer are skipped
    assert cgroups.ensure(base, "dsl-ann", SETTINGS) == folder  # idempotent


def test_ensure_in_v1_and_remove(tmp_path: Path) -> None:
    (base,) = cgroups.bases(_v1(tmp_path, {"pids": "/"}))
    folder = cgroups.ensure(base, "dsl-ann", SETTINGS)
    assert (folder / "pids.max").read_text() == "840"
    for item in folder.iterdir():
        item.unlink()  # a real cgroup folder's files vanish with it
    assert cgroups.remove(folder) and not folder.exists()
    assert cgroups.remove(folder)  # gone already: fine


# -- this host's own cgroups ------------------------------------------------------------------------

REAL = limits.offered() if os.geteuid() == 0 else []
real_host = pytest.mark.skipif(not REAL, reason="needs root and a host that offers writable cgroups")


@real_host
def test_on_this_host_every_base_is_our_own_cgroup() -> None:
    own = cgroups.parse_proc_cgroup(Path("/proc/self/cgroup").read_text())
    for base in REAL:
        key = V2 if base.version == V2 else base.controllers[0]
        assert str(base.path).endswith(own[key].rstrip("/")), (base, own)


@real_host
def test_on_this_host_a_wrapped_command_runs_in_the_seat_cgroup_with_its_nproc() -> None:
    user = f"dselab-unit-{os.getpid()}"
    argv = limits.wrap(user, ["bash", "-c", "ulimit -u; cat /proc/self/cgroup"], limits.SeatLimits(512, 300, 50))
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
        assert out.splitlines()[0] == "300"
        for base in REAL:
            assert f"/dselab-seat-{user}" in out
            folder = base.seat_dir(user)
            if "pids" in base.controllers:
                assert (folder / "pids.max").read_text().strip() == "300"
            if "memory" in base.controllers and base.version == V1:
                assert (folder / "memory.limit_in_bytes").read_text().strip() == str(512 << 20)
    finally:
        assert limits.remove(user) == []
    assert not any(b.seat_dir(user).exists() for b in REAL)


def test_the_wrapper_without_cgroups_still_sets_nproc() -> None:
    argv = [sys.executable, "-I", "-m", "dselab.classroom.host.seat_enter", "--user", "nobody", "--memory", "1",
            "--procs", "321", "--cpu-weight", "100", "--no-cgroups", "--", "bash", "-c", "ulimit -u"]
    assert subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip() == "321"
    refused = subprocess.run(argv[:-4], capture_output=True, text=True)
    assert refused.returncode != 0 and "--" in refused.stderr


@real_host
def test_on_this_host_removing_a_seat_kills_what_runs_in_its_cgroups_and_removes_them() -> None:
    user = f"dselab-unit-{os.getpid()}-rm"
    argv = limits.wrap(user, ["sh", "-c", "sleep 60 & sleep 60 & wait"], limits.SeatLimits(512, 300, 50))
    running = subprocess.Popen(argv)
    try:
        folder = REAL[0].seat_dir(user)
        deadline = time.monotonic() + 30
        while len(cgroups.pids_in(folder)) < 3 and time.monotonic() < deadline:  # sh and its two sleeps
            time.sleep(0.1)
        assert len(cgroups.pids_in(folder)) == 3
        assert limits.remove(user) == []
        assert running.wait(timeout=10) == -9
        assert not any(b.seat_dir(user).exists() for b in REAL)
    finally:
        running.kill()
        limits.remove(user)
