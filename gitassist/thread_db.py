"""Thread and run records beside the checkpoints, in ``<repo>/.gitassist/threads.sqlite``.

Two small tables, kept by :class:`ThreadDB`, remember each thread's metadata and status and
each run's provenance; the graph state itself lives in the checkpointer's tables
(:mod:`gitassist.threads`). Plain :mod:`sqlite3`: no langgraph here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from gitassist.events import jsonable
from gitassist.state_dir import STATE_DIR, state_dir

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

DB_NAME = "threads.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class ThreadDB:
    """Thread and run records beside the checkpoints, in ``.gitassist/threads.sqlite``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / STATE_DIR / DB_NAME
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The connection (opened once, shared by threads), inside one transaction."""
        with self._lock:
            if self._conn is None:
                state_dir(self.root)
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                # WAL (the checkpointer's mode too): a commit survives a crash of this
                # process without an fsync per statement.
                conn.executescript(_SCHEMA_SQL)
                conn.execute("PRAGMA synchronous=NORMAL")
                self._conn = conn
            with self._conn:
                yield self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def create(self, thread_id: str, metadata: Mapping[str, Any]) -> None:
        now = _now()
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO gitassist_threads VALUES (?, ?, ?, ?, 'idle')",
                (thread_id, now, now, json.dumps(dict(metadata))),
            )

    def get(self, thread_id: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM gitassist_threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        return _thread_row(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM gitassist_threads").fetchall()
        return [_thread_row(r) for r in rows]

    def update(
        self,
        thread_id: str,
        *,
        status: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        with self.connect() as conn:
            if status is not None:
                conn.execute(
                    "UPDATE gitassist_threads SET status = ?, updated_at = ? WHERE thread_id = ?",
                    (status, _now(), thread_id),
                )
            if metadata is not None:
                conn.execute(
                    "UPDATE gitassist_threads SET metadata = ?, updated_at = ? WHERE thread_id = ?",
                    (json.dumps(dict(metadata)), _now(), thread_id),
                )

    def delete(self, thread_id: str) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM gitassist_threads WHERE thread_id = ?", (thread_id,))
            conn.execute("DELETE FROM gitassist_runs WHERE thread_id = ?", (thread_id,))

    def add_run(
        self,
        run_id: str,
        thread_id: str,
        assistant_id: str,
        metadata: Mapping[str, Any],
        kwargs: Mapping[str, Any],
    ) -> None:
        now = _now()
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO gitassist_runs VALUES (?, ?, ?, ?, ?, 'running', ?, ?, NULL)",
                (
                    run_id,
                    thread_id,
                    assistant_id,
                    now,
                    now,
                    json.dumps(dict(metadata)),
                    json.dumps(jsonable(dict(kwargs))),
                ),
            )

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.connect() as conn:
            conn.execute(
                "UPDATE gitassist_runs SET status = ?, updated_at = ?, error = ? WHERE run_id = ?",
                (status, _now(), error, run_id),
            )

    def thread_config(self, thread_id: str) -> dict[str, Any]:
        """The config of the thread's last run, as the server shows it (``{}`` before one)."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT kwargs FROM gitassist_runs WHERE thread_id = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (thread_id,),
            ).fetchone()
        if row is None:
            return {}
        config = dict(json.loads(row[0]).get("config") or {})
        config["configurable"] = {}
        return config

    def delete_run(self, run_id: str) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM gitassist_runs WHERE run_id = ?", (run_id,))

    def runs(self, thread_id: str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM gitassist_runs WHERE thread_id = ? ORDER BY created_at, rowid",
                (thread_id,),
            ).fetchall()
        return [_run_row(r) for r in rows]


_SCHEMA_SQL = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS gitassist_threads (
    thread_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    metadata TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gitassist_runs (
    run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, assistant_id TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, status TEXT NOT NULL,
    metadata TEXT NOT NULL, kwargs TEXT NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS gitassist_runs_thread ON gitassist_runs (thread_id);
"""


def _thread_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "thread_id": row[0],
        "created_at": row[1],
        "updated_at": row[2],
        "metadata": json.loads(row[3]),
        "status": row[4],
    }


def _run_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "run_id": row[0],
        "thread_id": row[1],
        "assistant_id": row[2],
        "created_at": row[3],
        "updated_at": row[4],
        "status": row[5],
        "metadata": json.loads(row[6]),
        "kwargs": json.loads(row[7]),
        "error": row[8],
        "multitask_strategy": "reject",
    }
