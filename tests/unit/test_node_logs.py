"""`dselab logs NODE [-n LINES] [--since-lab]`: the command error messages point to exists and
shows the node's system log, or what it logged since the lab's mark."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dselab import cli, service
from dselab.lab import Lab, Step
from dselab.state import StateStore

SYSTEM = "".join(f"INFO  [main] 2025-01-10 10:00:{i:02d},000 X.java:1 - line {i}\n" for i in range(30))
BEFORE_MARK = "INFO  [main] 2025-01-10 09:00:00,000 X.java:1 - before the lab\n"
DEBUG_AFTER = ("DEBUG [gossip] 2025-01-10 10:01:00,000 G.java:2 - chatter\n"
               "INFO  [compaction] 2025-01-10 10:01:01,000 C.java:3 - Starting Cleanup on training\n"
               "ERROR [main] 2025-01-10 10:01:02,000 M.java:4 - boom\n"
               "java.io.IOException: disk\n\tat a.b.C.d(C.java:1)\n"
               "DEBUG [gossip] 2025-01-10 10:01:03,000 G.java:2 - more chatter\n")
LAB = Lab(id="05-backup-restore", number="05", title="B", summary="",
          steps=(Step(id="s", number=1, title="s", body="", solution=()),))


class LogRuntime:
    """Logs as files would hold them: system.log, and debug.log whose mark is where the lab began."""

    def node_names(self) -> list[str]:
        return ["dse-seed", "dse-node-1"]

    def log_since(self, node: str, mark: int, debug: bool = True) -> str:
        text = (BEFORE_MARK + DEBUG_AFTER) if debug else SYSTEM
        return text.encode()[mark:].decode()

    def log_tail(self, node: str, lines: int = 40) -> list[str]:
        return SYSTEM.splitlines()[-lines:]


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> service.Workspace:
    store = StateStore(tmp_path / "state.sqlite")
    store.start_run(LAB.id, {"log_marks": {"dse-seed": len(BEFORE_MARK)}, "started_at": time.time()})
    workspace = service.Workspace(LogRuntime(), store, "local")  # type: ignore[arg-type]
    monkeypatch.setattr(cli, "workspace", lambda progress=True: workspace)
    monkeypatch.setattr("dselab.node_logs.load_all", lambda: (LAB,))
    return workspace


def test_tail_of_the_system_log(ws: service.Workspace) -> None:
    result = CliRunner().invoke(cli.main, ["logs", "dse-seed", "-n", "3"])
    assert result.exit_code == 0, result.output
    assert [line.rsplit(" - ", 1)[1] for line in result.output.splitlines()] == ["line 27", "line 28", "line 29"]


def test_all_of_the_system_log(ws: service.Workspace) -> None:
    result = CliRunner().invoke(cli.main, ["logs", "dse-node-1", "-n", "0"])
    assert result.exit_code == 0 and result.output == SYSTEM


def test_since_lab_reads_from_the_mark_and_keeps_system_records(ws: service.Workspace) -> None:
    result = CliRunner().invoke(cli.main, ["logs", "dse-seed", "--since-lab", "-n", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "INFO  [compaction] 2025-01-10 10:01:01,000 C.java:3 - Starting Cleanup on training",
        "ERROR [main] 2025-01-10 10:01:02,000 M.java:4 - boom",
        "java.io.IOException: disk", "\tat a.b.C.d(C.java:1)",
    ]


def test_unknown_node_is_one_line_exit_2(ws: service.Workspace) -> None:
    result = CliRunner().invoke(cli.main, ["logs", "dse-node-9"])
    assert result.exit_code == 2 and "unknown node 'dse-node-9'; the nodes are: dse-seed, dse-node-1" in result.output


def test_every_dselab_logs_a_message_mentions_is_a_real_command() -> None:
    """Grep the sources: each `dselab logs ...` in a message parses as a command line."""
    mentions = set()
    checkout = Path(__file__).resolve().parents[2]
    for path in [*(checkout / "src" / "dselab").rglob("*.py"), *(checkout / "checks").rglob("*.py")]:
        mentions |= set(re.findall(r"`dselab logs ([^`]*)`", path.read_text()))
    assert mentions, "error messages point to `dselab logs`"
    for args in mentions:
        argv = ["logs", *(a if "{" not in a else "dse-seed" for a in args.split())]
        result = CliRunner().invoke(cli.main, [*argv, "--help"])
        assert result.exit_code == 0, (args, result.output)
