"""The state store: the environment record, each lab run's baseline, answers, facts and every check
attempt. Every key of the store is spelled here and nowhere else; callers use the typed methods.

One SQLite file per runtime under DSELAB_HOME, so the CLI and the web app can share it safely
and progress survives restarts. DSELAB_STATE_DIR puts it elsewhere: a classroom's server keeps a
seat's store on the server, out of the seat user's reach, while the cluster stays in the seat.

"Passed in this run" (a step whose check passed at least once since the lab's baseline) is
`passed_steps`: every front end and the grader ask it here.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, TypedDict

from dselab.outcomes import CheckStatus
from dselab.settings import Settings, resolve

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lab TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
    at REAL NOT NULL, source TEXT NOT NULL, evidence TEXT NOT NULL, hint TEXT NOT NULL DEFAULT ''
);
"""

ENVIRONMENT_KEY = "environment"
STUDENT_NODETOOL_KEY = "student_nodetool"


class Baseline(TypedDict, total=False):
    """A lab run's start: each node's log size then, when, and what the cluster was."""

    log_marks: dict[str, int]
    started_at: float
    fingerprint: Any
    cassandra_version: str


class AttemptSummary(TypedDict):
    step: str
    status: str
    at: float
    source: str


class Attempt(AttemptSummary):
    message: str
    hint: str
    evidence: Any


def _lab_prefix(lab_id: str) -> str:
    return f"lab:{lab_id}:"


def _baseline_key(lab_id: str) -> str:
    return f"lab:{lab_id}:baseline"


def answer_prefix(lab_id: str) -> str:
    """Where a store keeps a lab's answers (step id follows): what a classroom observer reads, bounded,
    from a seat's own store file (classroom.seat_answers), which it must not open as a StateStore."""
    return f"lab:{lab_id}:answer:"


def _seat_answer_key(lab_id: str, step_id: str) -> str:
    return f"lab:{lab_id}:seat-answer:{step_id}"


def _fact_prefix(lab_id: str) -> str:
    return f"lab:{lab_id}:fact:"


class StateStore:
    def __init__(self, path: Path | None) -> None:
        """A store in the file `path`; None keeps it in memory (a classroom observer's scratch store)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path or ":memory:", timeout=30, check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._add_hint_column()

    def _add_hint_column(self) -> None:
        """Stores written before attempts kept their hint get the column (empty for the old rows)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(attempts)")}
        if "hint" not in columns:
            try:
                with self._db:
                    self._db.execute("ALTER TABLE attempts ADD COLUMN hint TEXT NOT NULL DEFAULT ''")
            except sqlite3.OperationalError as err:  # another connection added it meanwhile
                if "duplicate column" not in str(err):
                    raise

    @classmethod
    def in_memory(cls) -> StateStore:
        return cls(None)

    @classmethod
    def for_runtime(cls, runtime_name: str, settings: Settings | None = None) -> StateStore:
        """The runtime's store in settings.state_dir (DSELAB_STATE_DIR), else in settings.home."""
        return cls(cls.path_for(runtime_name, settings))

    @staticmethod
    def path_for(runtime_name: str, settings: Settings | None = None) -> Path:
        return resolve(settings).state_folder / f"state-{runtime_name}.sqlite"

    # -- the key-value table (private: the typed methods below name every key) ---------------------

    def _get(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def _put(self, key: str, value: Any) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
                             (key, json.dumps(value, sort_keys=True)))

    def _delete_prefix(self, prefix: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM kv WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    def _items(self, prefix: str) -> dict[str, Any]:
        rows = self._db.execute("SELECT key, value FROM kv WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return {key[len(prefix):]: json.loads(value) for key, value in rows.fetchall()}

    # -- the cluster's environment record (cluster.bring_up) -------------------------------------

    def environment(self) -> dict[str, Any] | None:
        record: dict[str, Any] | None = self._get(ENVIRONMENT_KEY)
        return record

    def set_environment(self, record: dict[str, Any]) -> None:
        self._put(ENVIRONMENT_KEY, record)

    def forget_everything(self) -> None:
        """Every record and attempt (the cluster behind them was purged)."""
        with self._db:
            self._db.execute("DELETE FROM kv")
            self._db.execute("DELETE FROM attempts")

    # -- the scripts' nodetool (nodetool_choice) -----------------------------------------------------

    def student_nodetool(self) -> str | None:
        """The nodetool client the lab started last chose ("3.11" or "native"); None: none started."""
        value = self._get(STUDENT_NODETOOL_KEY)
        return value if isinstance(value, str) else None

    def set_student_nodetool(self, client: str) -> None:
        self._put(STUDENT_NODETOOL_KEY, client)

    # -- a lab run ---------------------------------------------------------------------------------

    def baseline(self, lab_id: str) -> Baseline | None:
        base: Baseline | None = self._get(_baseline_key(lab_id))
        return base

    def run_started_at(self, lab_id: str) -> float:
        """When the lab's current run began (0: never started, so every attempt counts)."""
        return float((self.baseline(lab_id) or {}).get("started_at") or 0)

    def start_run(self, lab_id: str, baseline: Baseline) -> None:
        """A fresh run of the lab: its attempts, answers and facts gone, `baseline` kept."""
        self.clear_lab(lab_id)
        self._put(_baseline_key(lab_id), baseline)

    def clear_lab(self, lab_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM attempts WHERE lab = ?", (lab_id,))
        self._delete_prefix(_lab_prefix(lab_id))

    def answer(self, lab_id: str, step_id: str) -> str | None:
        value: str | None = self._get(answer_prefix(lab_id) + step_id)
        return value

    def set_answer(self, lab_id: str, step_id: str, value: str) -> None:
        self._put(answer_prefix(lab_id) + step_id, value)

    def seat_answer(self, lab_id: str, step_id: str) -> str | None:
        """The last answer taken from a classroom seat's own store for a step (a differing one is new)."""
        value: str | None = self._get(_seat_answer_key(lab_id, step_id))
        return value

    def set_seat_answer(self, lab_id: str, step_id: str, value: str) -> None:
        self._put(_seat_answer_key(lab_id, step_id), value)

    def fact(self, lab_id: str, name: str, default: Any = None) -> Any:
        """What a check kept for a later check of the same run (e.g. the write times it saw)."""
        return self._get(_fact_prefix(lab_id) + name, default)

    def set_fact(self, lab_id: str, name: str, value: Any) -> None:
        self._put(_fact_prefix(lab_id) + name, value)

    def facts(self, lab_id: str) -> dict[str, Any]:
        """Every fact of the lab's run, by name."""
        return self._items(_fact_prefix(lab_id))

    # -- attempts ----------------------------------------------------------------------------------

    def record_attempt(self, lab: str, step: str, status: str, message: str,
                       evidence: Any, source: str = "cli", at: float | None = None, hint: str = "") -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO attempts (lab, step, status, message, at, source, evidence, hint) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (lab, step, str(status), message, time.time() if at is None else at, source,
                 json.dumps(evidence, default=str), hint),
            )

    def attempts(self, lab: str, step: str | None = None, since: float | None = None) -> list[Attempt]:
        """Attempts in order, with evidence; `since` None: those of the lab's current run."""
        sql = "SELECT step, status, message, at, source, evidence, hint FROM attempts WHERE lab = ? AND at >= ?"
        args: list[Any] = [lab, self.run_started_at(lab) if since is None else since]
        if step is not None:
            sql += " AND step = ?"
            args.append(step)
        rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [Attempt(step=s, status=st, message=m, hint=h, at=at, source=src, evidence=json.loads(ev))
                for s, st, m, at, src, ev, h in rows]

    def attempt_summaries(self, lab: str, since: float | None = None) -> list[AttemptSummary]:
        """Every attempt's step, status and time, without evidence (what a grid poll needs);
        `since` None: those of the lab's current run."""
        start = self.run_started_at(lab) if since is None else since
        rows = self._db.execute("SELECT step, status, at, source FROM attempts WHERE lab = ? AND at >= ? ORDER BY id",
                                (lab, start)).fetchall()
        return [AttemptSummary(step=s, status=st, at=at, source=src) for s, st, at, src in rows]

    def last_messages(self, lab: str) -> dict[str, str]:
        """The last attempt's message per step in the lab's current run (what a stuck student last read)."""
        rows = self._db.execute("SELECT step, message FROM attempts WHERE lab = ? AND at >= ? ORDER BY id",
                                (lab, self.run_started_at(lab))).fetchall()
        return dict(rows)

    def passed_steps(self, lab: str) -> set[str]:
        """Ids of the steps whose check passed at least once in the lab's current run."""
        return {a["step"] for a in self.attempt_summaries(lab) if a["status"] == CheckStatus.PASS}

    def close(self) -> None:
        self._db.close()
