"""Threads: conversations kept between runs, in ``<repo>/.gitassist/threads.sqlite``.

The graph state lives in the checkpoints of the real ``langgraph-checkpoint-sqlite`` savers
(``SqliteSaver``, ``AsyncSqliteSaver`` for async runs); the thread and run records beside
them are :class:`gitassist.thread_db.ThreadDB`'s. :class:`ThreadStore` is what callers use:
create, get, search and delete threads, list their runs, read their state. langgraph is
imported only where checkpoints are read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from gitassist import resolve as reads
from gitassist.errors import Conflict, GitassistError, NotFound, UsageError, ValidationFailed
from gitassist.events import jsonable
from gitassist.graph_code import code_source, graph_spec, load_cached
from gitassist.state_dir import state_dir
from gitassist.thread_db import ThreadDB

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from gitassist.store import Store

THREAD_SORT_KEYS = ("thread_id", "status", "created_at", "updated_at")


def _iso(ts: Any) -> str | None:
    """A checkpoint's ``ts`` in the server's form (``+00:00``, microseconds)."""
    if not isinstance(ts, str):
        return None
    try:
        return dt.datetime.fromisoformat(ts).astimezone(dt.UTC).isoformat(timespec="microseconds")
    except ValueError:
        return None


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
        """The thread in the server's shape (``values`` None before its first checkpoint)."""
        thread = self.db.get(thread_id)
        if thread is None:
            raise NotFound(f"Thread with ID {thread_id} not found", hint="`gitassist threads list`")
        with self.saver() as saver:
            found = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        values = None
        interrupts: dict[str, list[Any]] = {}
        state_updated_at = thread["created_at"]
        if found is not None:
            channels = found.checkpoint.get("channel_values", {})
            values = jsonable(
                {k: v for k, v in channels.items() if not k.startswith("__") and ":" not in k}
            )
            state_updated_at = _iso(found.checkpoint.get("ts")) or state_updated_at
            for task_id, channel, value in found.pending_writes or ():
                if channel == "__interrupt__":
                    interrupts.setdefault(task_id, []).extend(jsonable(list(value)))
        runs = self.db.runs(thread_id)
        if found is not None and runs:
            values = self._graph_values(thread_id, runs[-1]["metadata"], values)
        config = self.db.thread_config(thread_id)
        error = runs[-1]["error"] if runs and thread["status"] == "error" else None
        return {
            "thread_id": thread["thread_id"],
            "created_at": thread["created_at"],
            "updated_at": thread["updated_at"],
            "state_updated_at": state_updated_at,
            "metadata": thread["metadata"],
            "status": thread["status"],
            "config": config,
            "values": values,
            "interrupts": interrupts,
            "error": error,
        }

    def _graph_values(self, thread_id: str, provenance: Mapping[str, Any], fallback: Any) -> Any:
        """The state values as the graph reads them (channels never written show as empty)."""
        try:
            graph = self._graph_of(provenance)
        except GitassistError:  # the code no longer loads: the raw channel values still do
            return fallback
        with self.saver() as saver:
            snap = graph.copy(update={"checkpointer": saver}).get_state(
                {"configurable": {"thread_id": thread_id}}
            )
        return jsonable(snap.values)

    def update(self, thread_id: str, *, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``metadata`` into the thread's."""
        thread = self.get(thread_id)
        self.db.update(thread_id, metadata={**thread["metadata"], **metadata})
        return self.get(thread_id)

    def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
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
        if key not in THREAD_SORT_KEYS:
            raise ValidationFailed(
                f"sort_by must be one of {', '.join(THREAD_SORT_KEYS)}, not {key!r}", []
            )
        rows.sort(key=lambda t: str(t.get(key, "")), reverse=(sort_order or "desc") == "desc")
        if values:
            full = [self.get(t["thread_id"]) for t in rows]
            found = [
                t for t in full if all((t["values"] or {}).get(k) == v for k, v in values.items())
            ]
            return found[offset : offset + limit]
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

    def _thread_graph(self, thread_id: str) -> Any:
        """The graph of the thread's last run (None before its first run)."""
        self.get(thread_id)
        runs = self.db.runs(thread_id)
        return self._graph_of(runs[-1]["metadata"]) if runs else None

    def get_state(
        self,
        thread_id: str,
        *,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        subgraphs: bool = False,
    ) -> dict[str, Any]:
        """The thread's state as the graph of its last run sees it (langgraph_sdk's shape)."""
        graph = self._thread_graph(thread_id)
        if graph is None:
            thread = self.get(thread_id)
            return {
                "values": thread["values"] or {},
                "next": [],
                "tasks": [],
                "metadata": {},
                "created_at": None,
                "checkpoint": _checkpoint(None, thread_id),
                "parent_checkpoint": None,
                "checkpoint_id": None,
                "parent_checkpoint_id": None,
                "interrupts": [],
            }
        config = _config(thread_id, checkpoint, checkpoint_id)
        with self.saver() as saver:
            snap = graph.copy(update={"checkpointer": saver}).get_state(config, subgraphs=subgraphs)
        if snap.config is None and (checkpoint or checkpoint_id):
            raise NotFound(f"checkpoint {checkpoint_id or dict(checkpoint or {})} not found")
        return _snapshot(snap)

    def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The thread's checkpoints, newest first (``[]`` before its first run)."""
        graph = self._thread_graph(thread_id)
        if graph is None:
            return []
        config = _config(thread_id, checkpoint, None)
        before_config = None
        if before is not None:
            before_id = before if isinstance(before, str) else before.get("checkpoint_id")
            before_config = {"configurable": {"thread_id": thread_id, "checkpoint_id": before_id}}
        with self.saver() as saver:
            snaps = graph.copy(update={"checkpointer": saver}).get_state_history(
                config,
                filter=dict(metadata) if metadata else None,
                before=before_config,
                limit=limit,
            )
            return [_snapshot(snap) for snap in snaps]

    def update_state(
        self,
        thread_id: str,
        values: Any,
        *,
        as_node: str | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
    ) -> dict[str, Any]:
        """Write ``values`` as if ``as_node`` returned them; the new checkpoint (server shape)."""
        graph = self._thread_graph(thread_id)
        if graph is None:
            raise ValidationFailed(
                f"thread {thread_id} has no graph yet: run it once before updating its state",
                [],
            )
        config = _config(thread_id, checkpoint, checkpoint_id)
        with self.saver() as saver:
            new = graph.copy(update={"checkpointer": saver}).update_state(
                config, values, as_node=as_node
            )
        self.db.update(thread_id, status=self.db.get(thread_id)["status"])  # type: ignore[index]
        return {"checkpoint": _checkpoint(new, thread_id)}

    def copy(self, thread_id: str) -> dict[str, Any]:
        """A new thread with this one's metadata and checkpoints."""
        thread = self.get(thread_id)
        new_id = str(uuid.uuid4())
        self.db.create(new_id, thread["metadata"])
        with self.saver() as saver:
            saver.copy_thread(thread_id, new_id)
        with self.db.connect() as conn:
            conn.execute(
                "INSERT INTO gitassist_runs SELECT run_id || ':' || ?, ?, assistant_id, "
                "created_at, updated_at, status, metadata, kwargs, error "
                "FROM gitassist_runs WHERE thread_id = ?",
                (new_id, new_id, thread_id),
            )
        return self.get(new_id)

    def _graph_of(self, provenance: Mapping[str, Any]) -> Any:
        """The graph a run used: the same code (pinned commit or working tree)."""
        commit = provenance.get("code_commit")
        pinned = bool(provenance.get("pinned") and commit)
        code = code_source(self.store, commit if pinned else None)
        graph_id = provenance["graph_id"]
        from gitassist.run_env import apply_env

        apply_env(code.project, self.store.root)  # the graph is imported as for its runs
        return load_cached(code, graph_id, graph_spec(code, graph_id), self.store)[0]


def _config(
    thread_id: str, checkpoint: Mapping[str, Any] | None, checkpoint_id: str | None
) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint:
        configurable.update({k: v for k, v in checkpoint.items() if v is not None})
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def _checkpoint(
    config: Mapping[str, Any] | None, thread_id: str | None = None
) -> dict[str, Any] | None:
    if not config:
        if thread_id is None:
            return None
        return {
            "thread_id": thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": None,
            "checkpoint_map": None,
        }
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
        "checkpoint_id": (snap.config or {}).get("configurable", {}).get("checkpoint_id"),
        "parent_checkpoint_id": (snap.parent_config or {})
        .get("configurable", {})
        .get("checkpoint_id"),
    }
