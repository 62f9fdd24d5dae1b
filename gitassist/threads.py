"""Threads: conversations kept between runs, in ``<repo>/.gitassist/threads.sqlite``.

The graph state lives in the checkpoints of the real ``langgraph-checkpoint-sqlite`` savers
(``SqliteSaver``, ``AsyncSqliteSaver`` for async runs). Two small tables beside them,
kept by :class:`ThreadDB`, remember each thread's metadata and status and each run's
provenance. :class:`ThreadStore` is what callers use: create, get, search and delete threads,
list their runs, read their state. langgraph is imported only where checkpoints are read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
import uuid
from typing import TYPE_CHECKING, Any

from gitassist import resolve as reads
from gitassist.errors import Conflict, NotFound, UsageError
from gitassist.events import jsonable
from gitassist.graph_code import code_source, graph_spec, load_cached
from gitassist.state_dir import STATE_DIR, state_dir

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from gitassist.store import Store

DB_NAME = "threads.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


# --------------------------------------------------------------------------- thread records


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


# --------------------------------------------------------------------------- threads


class ThreadStore:
    """The threads of one repository: their records and their checkpointed state."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = ThreadDB(store.root)

    @property
    def db_path(self) -> str:
        """The SQLite file the checkpointers open (its directory created on first use)."""
        state_dir(self.store.root)
        return str(self.db.path)

    @contextlib.contextmanager
    def saver(self) -> Iterator[Any]:
        """The checkpointer (``SqliteSaver``) over the threads database."""
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(self.db_path) as saver:
            yield saver

    def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        if_exists: str | None = None,
        graph_id: str | None = None,
        assistant: str | None = None,
    ) -> dict[str, Any]:
        meta = dict(metadata or {})
        if assistant is not None:
            resolved = reads.resolve(self.store, assistant)
            meta.setdefault("assistant_id", resolved.assistant_id)
            graph_id = graph_id or resolved.document.graph_id
        if graph_id is not None:
            meta["graph_id"] = graph_id
        try:
            new_id = str(uuid.UUID(thread_id)) if thread_id else str(uuid.uuid4())
        except ValueError:
            raise UsageError(f"thread id {thread_id!r} is not a UUID") from None
        if self.db.get(new_id) is not None:
            if if_exists == "do_nothing":
                return self.get(new_id)
            raise Conflict(
                f"thread {new_id} already exists",
                hint='pass if_exists="do_nothing" to get the existing one',
            )
        self.db.create(new_id, meta)
        return self.get(new_id)

    def get(self, thread_id: str) -> dict[str, Any]:
        thread = self.db.get(thread_id)
        if thread is None:
            raise NotFound(f"thread {thread_id} not found", hint="`gitassist threads list`")
        return {**thread, "values": self._values(thread_id), "interrupts": {}}

    def update(self, thread_id: str, *, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``metadata`` into the thread's."""
        thread = self.get(thread_id)
        self.db.update(thread_id, metadata={**thread["metadata"], **metadata})
        return self.get(thread_id)

    def _values(self, thread_id: str) -> Any:
        with self.saver() as saver:
            found = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        if found is None:
            return {}
        values = found.checkpoint.get("channel_values", {})
        return jsonable(
            {k: v for k, v in values.items() if not k.startswith("__") and ":" not in k}
        )

    def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = [
            t
            for t in self.db.all()
            if (ids is None or t["thread_id"] in ids)
            and (status is None or t["status"] == status)
            and all(t["metadata"].get(k) == v for k, v in (metadata or {}).items())
        ]
        key = sort_by or "created_at"
        rows.sort(key=lambda t: str(t.get(key, "")), reverse=(sort_order or "desc") == "desc")
        return [self.get(t["thread_id"]) for t in rows[offset : offset + limit]]

    def delete(self, thread_id: str) -> None:
        if self.db.get(thread_id) is None:
            raise NotFound(f"thread {thread_id} not found")
        with self.saver() as saver:
            saver.delete_thread(thread_id)
        self.db.delete(thread_id)

    def runs(self, thread_id: str) -> list[dict[str, Any]]:
        self.get(thread_id)
        return self.db.runs(thread_id)

    def get_state(self, thread_id: str) -> dict[str, Any]:
        """The thread's state as the graph of its last run sees it (langgraph_sdk's shape)."""
        thread = self.get(thread_id)
        runs = self.db.runs(thread_id)
        if not runs:
            return {
                "values": thread["values"],
                "next": [],
                "checkpoint": None,
                "metadata": {},
                "created_at": None,
                "parent_checkpoint": None,
                "tasks": [],
                "interrupts": [],
            }
        graph = self._graph_of(runs[-1]["metadata"])
        with self.saver() as saver:
            snap = graph.copy(update={"checkpointer": saver}).get_state(
                {"configurable": {"thread_id": thread_id}}
            )
        return _snapshot(snap)

    def _graph_of(self, provenance: Mapping[str, Any]) -> Any:
        """The graph a run used: the same code (pinned commit or working tree)."""
        commit = provenance.get("code_commit")
        pinned = bool(provenance.get("pinned") and commit)
        code = code_source(self.store, commit if pinned else None)
        graph_id = provenance["graph_id"]
        return load_cached(code, graph_id, graph_spec(code, graph_id), self.store)[0]


def _checkpoint(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    return {
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
        "checkpoint_map": None,
    }


def _snapshot(snap: Any) -> dict[str, Any]:
    return {
        "values": jsonable(snap.values),
        "next": list(snap.next),
        "checkpoint": _checkpoint(snap.config),
        "metadata": jsonable(snap.metadata),
        "created_at": snap.created_at,
        "parent_checkpoint": _checkpoint(snap.parent_config),
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "error": None if t.error is None else repr(t.error),
                "interrupts": jsonable(list(t.interrupts)),
                "checkpoint": None,
                "state": None,
                "result": jsonable(getattr(t, "result", None)),
            }
            for t in snap.tasks
        ],
        "interrupts": jsonable(list(snap.interrupts)),
    }
