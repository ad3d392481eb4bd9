"""The cluster template's key, manifest and clone, on folders of the test (no cluster)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from dselab import cluster
from dselab.runtime import template as template_module
from dselab.runtime.distribution import Distribution
from dselab.runtime.local import LocalRuntime
from dselab.runtime.local_settings import LocalSettings
from dselab.runtime.template import (
    FORMAT,
    MANIFEST,
    NODES,
    Template,
    TemplateRefused,
    copy_file,
    is_linked,
    lab_key_parts,
    lab_template,
    template_key,
    templates_folder,
)
from dselab.settings import Settings

TABLE = "data/training/customers-ba917030ec9211f1974ad92d84b4070b"


def make_node(root: Path, marker: str) -> None:
    """A stopped node's state as Cassandra leaves it: SSTables, a sparse commit log, caches."""
    table = root / TABLE
    table.mkdir(parents=True)
    (table / "nb-1-big-Data.db").write_bytes(b"rows of " + marker.encode() * 1000)
    (table / "nb-1-big-Index.db").write_bytes(b"index " + marker.encode())
    (table / "nb-1-big-Statistics.db").write_bytes(b"stats " + marker.encode())
    (table / "nb-1-big-TOC.txt").write_text("Data.db\nIndex.db\nStatistics.db\n")
    (root / "data" / "system" / "local-7ad54392bcdd35a684174e047860b377").mkdir(parents=True)
    (root / "data" / "system" / "local-7ad54392bcdd35a684174e047860b377" / "nb-3-big-Data.db").write_bytes(b"local")
    (root / "commitlog").mkdir()
    with (root / "commitlog" / "CommitLog-7-1.log").open("wb") as fh:
        fh.write(b"header")
        fh.truncate(32 << 20)  # a 32 MiB segment, a hole but for its first bytes
    (root / "saved_caches").mkdir()
    (root / "hints").mkdir()
    (root / "logs").mkdir()
    (root / "logs" / "system.log").write_text("not kept")
    (root / "conf").mkdir()
    (root / "conf" / "cassandra.yaml").write_text("not kept: written for each home")


@pytest.fixture
def nodes(tmp_path: Path) -> dict[str, Path]:
    roots = {name: tmp_path / "made" / name for name in ("dse-seed", "dse-node-1")}
    for name, root in roots.items():
        make_node(root, name)
    return roots


@pytest.fixture
def kept(tmp_path: Path, nodes: dict[str, Path]) -> Template:
    template = Template(tmp_path / "templates", "k" * 64)
    template.capture(nodes, {"fingerprint": {"customers": {"rows": 1, "checksum": "x"}}}, {"part": 1})
    return template


# -- the key ---------------------------------------------------------------------------------------

def test_the_key_changes_with_any_part_and_not_with_their_order() -> None:
    parts = {"cassandra": "5.0.9", "loopback": "127.0.55", "nodes": {"a": 1, "b": 2}}
    same = {"nodes": {"b": 2, "a": 1}, "loopback": "127.0.55", "cassandra": "5.0.9"}
    assert template_key(parts) == template_key(same)
    for changed in ({**parts, "cassandra": "5.0.8"}, {**parts, "loopback": "127.0.56"},
                    {**parts, "nodes": {"a": 1, "b": 3}}, {**parts, "data": "other"}):
        assert template_key(changed) != template_key(parts)


def runtime(tmp_path: Path, home: str, **settings: object) -> LocalRuntime:
    lib = tmp_path / "cassandra" / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    (lib / "cassandra-all-5.0.9.jar").write_bytes(b"jar")
    manifest = lib.parent / "MANIFEST.sha256.json"
    if not manifest.exists():
        manifest.write_text('{"cassandra-all-5.0.9.jar": "abc"}')
    local = LocalSettings(home=tmp_path / home, **settings)  # type: ignore[arg-type]
    made = LocalRuntime(settings=local, config=Settings(home=tmp_path / home, cache=tmp_path / "cache"))
    made._dist = Distribution(version="5.0.9", lib_dir=lib, source="test")
    return made


def test_the_key_holds_what_the_files_hold_not_the_home_or_jmx(tmp_path: Path) -> None:
    data = cluster.data_version()
    base = lab_template(runtime(tmp_path, "a"), data).key
    assert lab_template(runtime(tmp_path, "b", jmx_base=9000), data).key == base  # another home, another JMX
    assert lab_template(runtime(tmp_path, "a", loopback="127.0.56"), data).key != base  # system.peers
    assert lab_template(runtime(tmp_path, "a", profile="small", heap_mb=256), data).key != base
    assert lab_template(runtime(tmp_path, "a"), "other data").key != base
    parts = lab_key_parts(runtime(tmp_path, "a"), data)
    assert "/a/" not in str(parts) and "9000" not in str(parts) and parts["cassandra"] == "5.0.9"
    (tmp_path / "cassandra" / "MANIFEST.sha256.json").write_text('{"cassandra-all-5.0.9.jar": "def"}')
    assert lab_template(runtime(tmp_path, "a"), data).key != base  # other jars


def test_the_data_version_is_stable() -> None:
    assert cluster.data_version() == cluster.data_version()


def test_templates_live_in_the_cache_unless_told(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", cache=tmp_path / "c")
    assert templates_folder(settings) == tmp_path / "c" / "templates"
    assert templates_folder(settings.replace(template_dir=tmp_path / "t")) == tmp_path / "t"
    assert Settings.from_env({"DSELAB_TEMPLATE": "0"}).template is False
    assert Settings.from_env({}).template is True


# -- what is linked --------------------------------------------------------------------------------

@pytest.mark.parametrize("relative, linked", [
    (f"{TABLE}/nb-1-big-Data.db", True),
    (f"{TABLE}/nb-1-big-Index.db", True),
    ("data/system/local-7ad5/oa-3-bti-Partitions.db", True),
    (f"{TABLE}/nb-1-big-Statistics.db", False),  # may be rewritten in place: copied
    (f"{TABLE}/nb-1-big-Summary.db", False),
    (f"{TABLE}/nb-1-big-TOC.txt", False),
    (f"{TABLE}/snapshots/t/nb-1-big-Data.db", False),
    (f"{TABLE}/backups/nb-1-big-Data.db", False),
    ("commitlog/CommitLog-7-1.log", False),
])
def test_only_immutable_sstable_bodies_are_linked(relative: str, linked: bool) -> None:
    assert is_linked(relative) is linked


# -- capture, verify, clone -------------------------------------------------------------------------

def test_a_capture_keeps_the_state_folders_with_a_manifest(kept: Template) -> None:
    manifest = kept.verify()
    assert manifest["format"] == FORMAT and manifest["key"] == kept.key
    assert manifest["record"]["fingerprint"]["customers"]["rows"] == 1
    files = manifest["files"]
    assert f"dse-seed/{TABLE}/nb-1-big-Data.db" in files
    assert not any("/logs/" in f or "/conf/" in f for f in files)
    assert not list(kept.templates.glob("*.partial-*"))
    segment = kept.folder / NODES / "dse-seed" / "commitlog" / "CommitLog-7-1.log"
    assert segment.stat().st_size == 32 << 20 and segment.stat().st_blocks * 512 < 1 << 20  # still sparse


@pytest.fixture
def no_reflink(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on ext4: no copy-on-write clones, so shared files are hard links."""
    monkeypatch.setattr(template_module, "reflink", lambda src, dst: False)


def test_a_clone_links_sstable_bodies_and_copies_the_rest(kept: Template, tmp_path: Path, no_reflink: None) -> None:
    roots = {name: tmp_path / "home" / "clusters" / "lab" / name for name in ("dse-seed", "dse-node-1")}
    linked, copied = kept.clone(kept.verify(), roots)
    assert (linked, copied) == (2 * 3, 2 * 3)  # Data, Index, system Data; Statistics, TOC, commit log
    seed, source = roots["dse-seed"], kept.folder / NODES / "dse-seed"
    for name, shared in (("nb-1-big-Data.db", True), ("nb-1-big-Index.db", True), ("nb-1-big-Statistics.db", False)):
        mine, theirs = seed / TABLE / name, source / TABLE / name
        assert mine.read_bytes() == theirs.read_bytes()
        assert (mine.stat().st_ino == theirs.stat().st_ino) is shared
    for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw"):
        assert (seed / sub).is_dir()
    assert (seed / "commitlog" / "CommitLog-7-1.log").stat().st_blocks * 512 < 1 << 20
    assert not list(seed.parent.glob("*.template-*"))
    # Deleting or compacting in the clone only drops the clone's name.
    (seed / TABLE / "nb-1-big-Data.db").unlink()
    kept.verify()


def test_a_clone_goes_only_where_no_node_is(kept: Template, tmp_path: Path) -> None:
    root = tmp_path / "busy"
    root.mkdir()
    with pytest.raises(FileExistsError):
        kept.clone(kept.verify(), {"dse-seed": root})


def written_through_a_clone(kept: Template, tmp_path: Path) -> None:
    roots = {"dse-seed": tmp_path / "clone" / "dse-seed", "dse-node-1": tmp_path / "clone" / "dse-node-1"}
    kept.clone(kept.verify(), roots)
    data = roots["dse-seed"] / TABLE / "nb-1-big-Data.db"
    size = data.stat().st_size
    with data.open("r+b") as fh:  # same size, other bytes: only the checksum tells
        fh.write(b"X")
    assert data.stat().st_size == size


@pytest.mark.parametrize("change", ["written through a clone", "added", "removed", "other key", "no manifest"])
def test_a_changed_template_is_refused(kept: Template, tmp_path: Path, change: str, no_reflink: None) -> None:
    seed = kept.folder / NODES / "dse-seed"
    if change == "written through a clone":
        written_through_a_clone(kept, tmp_path)
    elif change == "added":
        (seed / "hints" / "planted.hints").write_text("x")
    elif change == "removed":
        (seed / TABLE / "nb-1-big-TOC.txt").unlink()
    elif change == "other key":
        text = (kept.folder / MANIFEST).read_text().replace(kept.key, "o" * 64)
        (kept.folder / MANIFEST).write_text(text)
    else:
        (kept.folder / MANIFEST).unlink()
    with pytest.raises(TemplateRefused):
        kept.verify()


def test_a_link_in_a_template_is_refused(kept: Template) -> None:
    os.symlink("/etc/passwd", kept.folder / NODES / "dse-seed" / "hints" / "link")
    with pytest.raises(TemplateRefused, match="not a regular file"):
        kept.verify()


def test_removing_and_capturing_again_replaces_the_template(kept: Template, nodes: dict[str, Path]) -> None:
    (nodes["dse-seed"] / "hints" / "new.hints").write_text("new")
    kept.remove()
    assert not kept.exists()
    kept.capture(nodes, {}, {})
    assert "dse-seed/hints/new.hints" in kept.verify()["files"]
    assert not list(kept.templates.glob("*.trash-*"))


def test_copy_file_copies_bytes_and_holes(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    with src.open("wb") as fh:
        fh.write(b"a" * 10)
        fh.seek(8 << 20)
        fh.write(b"b" * 10)
        fh.truncate(16 << 20)
    copy_file(src, dst)
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_blocks * 512 < 1 << 20
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    copy_file(empty, tmp_path / "empty2")
    assert (tmp_path / "empty2").read_bytes() == b""


def test_one_process_at_a_time_holds_a_template(tmp_path: Path) -> None:
    template = Template(tmp_path / "templates", "k" * 64)
    said: list[str] = []
    order: list[str] = []
    holding = threading.Event()

    def other() -> None:
        holding.wait()
        with template.locked(said.append):
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    with template.locked():
        holding.set()
        for _ in range(200):
            if said:
                break
            threading.Event().wait(0.01)
        order.append("first")
    thread.join()
    assert order == ["first", "other"]
    assert said and "waiting for another dselab" in said[0]


def test_the_lock_is_the_makers_alone(tmp_path: Path) -> None:
    template = Template(tmp_path / "templates", "k" * 64)
    with template.locked():
        assert template.lock_file.stat().st_mode & 0o777 == 0o600  # no other user can hold it


@pytest.mark.skipif(os.geteuid() != 0, reason="gives a file to another user: root only")
def test_another_users_template_is_copied_never_hard_linked(tmp_path: Path, no_reflink: None) -> None:
    src, mine, theirs = tmp_path / "src", tmp_path / "mine", tmp_path / "theirs"
    src.write_bytes(b"sstable body")
    assert template_module.link_or_copy(src, mine) and mine.stat().st_ino == src.stat().st_ino
    os.chown(src, 65534, 65534)  # the template now belongs to its builder, not to this seat
    assert not template_module.link_or_copy(src, theirs)
    assert theirs.read_bytes() == b"sstable body" and theirs.stat().st_ino != src.stat().st_ino
    assert theirs.stat().st_uid == os.geteuid()


# -- which fresh clusters use it -------------------------------------------------------------------

def test_a_fresh_local_lab_cluster_uses_a_template_unless_told_not_to(tmp_path: Path) -> None:
    made = runtime(tmp_path, "h")
    assert cluster.templated(made) is made
    made.config = made.config.replace(template=False)
    assert cluster.templated(made) is None
    made = runtime(tmp_path, "h")
    (made.specs["dse-seed"].root).mkdir(parents=True)  # a cluster is there: start what is there
    assert cluster.templated(made) is None
    assert cluster.templated(made.for_cluster("restore")) is None


def test_a_folder_that_cannot_hold_templates_is_not_writable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert not Template(tmp_path / "file" / "templates", "k" * 64).writable()
    assert Template(tmp_path / "templates", "k" * 64).writable()


def test_a_reflink_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(b"data")
    if template_module.reflink(src, dst):  # a filesystem with copy-on-write clones
        assert dst.read_bytes() == b"data" and dst.stat().st_ino != src.stat().st_ino
    else:
        assert not dst.exists()


def test_a_fingerprint_read_that_times_out_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab.environment import TableFingerprint
    from dselab.errors import EnvironmentProblem
    from dselab.progress import Silent

    calls: list[int] = []

    def flaky(runtime: object) -> dict[str, TableFingerprint]:
        calls.append(1)
        if len(calls) == 1:
            raise EnvironmentProblem("CQL on dse-seed failed: Operation timed out - received only 1 responses.")
        return {"customers": TableFingerprint(1, "x")}

    monkeypatch.setattr(cluster.environment, "fingerprint", flaky)
    monkeypatch.setattr(cluster.time, "sleep", lambda seconds: None)
    assert cluster._fingerprint(object(), Silent()) == {"customers": {"rows": 1, "checksum": "x"}}  # type: ignore[arg-type]
    calls.clear()
    monkeypatch.setattr(cluster.environment, "fingerprint",
                        lambda runtime: (_ for _ in ()).throw(EnvironmentProblem("keyspace training does not exist")))
    with pytest.raises(EnvironmentProblem):
        cluster._fingerprint(object(), Silent())  # type: ignore[arg-type]


# -- a seat: a template it may read but not write --------------------------------------------------

def _shared_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LocalRuntime, Template, list[str]]:
    made = runtime(tmp_path, "seat")
    kept = lab_template(made, cluster.data_version())
    events: list[str] = []
    monkeypatch.setattr(Template, "writable", lambda self: False)
    monkeypatch.setattr(cluster, "_first_time", lambda rt, progress: events.append("long way") or {"how": "long"})
    monkeypatch.setattr(cluster, "_clone", lambda rt, k, manifest, progress: events.append("clone") or {"how": "clone"})
    monkeypatch.setattr(cluster, "_keep", lambda *a, **k: events.append("keep"))
    monkeypatch.setattr(LocalRuntime, "down", lambda self, purge=False: events.append("purged"))
    return made, kept, events


def test_a_seat_without_a_class_template_makes_its_cluster_the_long_way_and_keeps_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab.progress import Silent

    made, kept, events = _shared_setup(tmp_path, monkeypatch)
    assert cluster._from_template(made, Silent()) == {"how": "long"}
    assert events == ["long way"] and not kept.templates.exists()


def test_a_seat_clones_a_class_template_that_verifies_and_refuses_one_that_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nodes: dict[str, Path]) -> None:
    from dselab.progress import Silent

    made, kept, events = _shared_setup(tmp_path, monkeypatch)
    kept.capture(nodes, {"fingerprint": {}}, {"part": 1})
    assert cluster._from_template(made, Silent()) == {"how": "clone"}
    data = next((kept.folder / NODES).rglob("*-Data.db"))
    data.write_bytes(b"changed by someone")
    assert cluster._from_template(made, Silent()) == {"how": "long"}
    assert events == ["clone", "purged", "long way"] and kept.exists()  # a reader never removes the maker's template


def test_a_changed_template_is_removed_and_made_again_the_long_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nodes: dict[str, Path]) -> None:
    from dselab.progress import Silent

    made = runtime(tmp_path, "own")
    kept = lab_template(made, cluster.data_version())
    kept.capture(nodes, {"fingerprint": {}}, {"part": 1})
    next((kept.folder / NODES).rglob("*-Data.db")).write_bytes(b"written by a student")
    events: list[str] = []
    monkeypatch.setattr(cluster, "_clone", lambda *a: events.append("clone") or {})
    monkeypatch.setattr(cluster, "_first_time_kept",
                        lambda rt, k, progress, restart: events.append(f"long way, kept, restart={restart}")
                        or {"how": "long"})
    said: list[str] = []
    progress = Silent()
    progress.step = said.append  # type: ignore[method-assign]
    assert cluster._from_template(made, progress) == {"how": "long"}
    assert events == ["long way, kept, restart=True"] and not kept.exists()  # the changed one is gone
    assert any("refused" in line and "making it again" in line for line in said), said


def test_a_node_that_does_not_drain_keeps_no_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dselab.errors import EnvironmentProblem
    from dselab.progress import Silent
    from dselab.runtime.base import CommandResult

    made = runtime(tmp_path, "own")
    kept = lab_template(made, cluster.data_version())
    asked: list[str] = []

    def drain(self: LocalRuntime, node: str, args: list[str], timeout: float = 0) -> CommandResult:
        asked.append(node)
        code = 2 if node == "dse-node-1" else 0
        return CommandResult(("nodetool", *args), code, "", "error: JMX connection refused" if code else "")

    monkeypatch.setattr(LocalRuntime, "nodetool", drain)
    monkeypatch.setattr(LocalRuntime, "down", lambda self, purge=False: asked.append("down"))
    with pytest.raises(EnvironmentProblem, match="dse-node-1: error: JMX connection refused"):
        cluster._keep(made, kept, {"fingerprint": {}}, Silent())
    assert sorted(asked) == ["dse-node-1", "dse-node-2", "dse-seed"]  # every node asked, none stopped
    assert not kept.exists()
