"""The local state store: environment record, lab baselines, answers and every check attempt.

One SQLite file per runtime under DSELAB_HOME, so the CLI and the web app can share it safely
and progress survives restarts. DSELAB_STATE_DIR puts it elsewhere: a classroom's grader keeps a
seat's store on the server, out of the seat user's reach, while the cluster stays in the seat.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from dselab.settings import Settings, resolve

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lab TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
    at REAL NOT NULL, source TEXT NOT NULL, evidence TEXT NOT NULL
);
"""


class StateStore:
    def __init__(self, path: Path | None) -> None:
        """A store in the file `path`; None keeps it in memory (a classroom observer's scratch store)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path or ":memory:", timeout=30, check_same_thread=False)
        self._db.executescript(SCHEMA)

    @classmethod
    def in_memory(cls) -> StateStore:
        return cls(None)

    @classmethod
    def for_runtime(cls, runtime_name: str, settings: Settings | None = None) -> StateStore:
        """The runtime's store in settings.state_dir (DSELAB_STATE_DIR), else in settings.home."""
        return cls(resolve(settings).state_folder / f"state-{runtime_name}.sqlite")

    def get(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value: Any) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
                             (key, json.dumps(value, sort_keys=True)))

    def delete_prefix(self, prefix: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM kv WHERE key LIKE ?", (prefix + "%",))

    def record_attempt(self, lab: str, step: str, status: str, message: str,
                       evidence: Any, source: str = "cli", at: float | None = None) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO attempts (lab, step, status, message, at, source, evidence) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (lab, step, status, message, time.time() if at is None else at, source,
                 json.dumps(evidence, default=str)),
            )

    def attempts(self, lab: str, step: str | None = None, since: float = 0) -> list[dict[str, Any]]:
        sql = "SELECT step, status, message, at, source, evidence FROM attempts WHERE lab = ? AND at >= ?"
        args: list[Any] = [lab, since]
        if step is not None:
            sql += " AND step = ?"
            args.append(step)
        rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [
            {"step": s, "status": st, "message": m, "at": at, "source": src, "evidence": json.loads(ev)}
            for s, st, m, at, src, ev in rows
        ]

    def attempt_summaries(self, lab: str, since: float = 0) -> list[dict[str, Any]]:
        """Every attempt's step, status and time, without evidence (what a grid poll needs)."""
        rows = self._db.execute("SELECT step, status, at, source FROM attempts WHERE lab = ? AND at >= ? ORDER BY id",
                                (lab, since)).fetchall()
        return [{"step": s, "status": st, "at": at, "source": src} for s, st, at, src in rows]

    def kv_items(self, prefix: str) -> dict[str, Any]:
        """Every key under `prefix` with its value."""
        rows = self._db.execute("SELECT key, value FROM kv WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return {key: json.loads(value) for key, value in rows.fetchall()}

    def clear_lab(self, lab: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM attempts WHERE lab = ?", (lab,))
        self.delete_prefix(f"lab:{lab}:")

    def close(self) -> None:
        self._db.close()
