"""One run's bookkeeping: its options, its id and records on the thread, its event shaping,
and how it ends (an error in the graph's code becomes a :class:`UserCodeError`).

The :class:`gitassist.runner.Runner` creates a :class:`Run` per run and drives the graph; a
thread runs one run at a time in this process (:func:`thread_running`).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.errors import Conflict, GitassistError, UserCodeError, ValidationFailed
from gitassist.events import StreamPart, StreamShaper, jsonable
from gitassist.run_prepare import trace_config
from gitassist.tracebacks import user_frame

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from gitassist.run_prepare import PreparedRun
    from gitassist.thread_db import ThreadDB

__all__ = ["Run", "RunOptions", "thread_running"]


# --------------------------------------------------------------------------- user errors


def _user_error(exc: BaseException, prepared: PreparedRun) -> UserCodeError:
    prov = prepared.provenance
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    message = f"graph '{prov.graph_id}' failed while running {prov.name}: {what}"
    frame = user_frame(exc, [prepared.code_root], fallback=False)
    if frame is None:
        return UserCodeError(
            message,
            hint="the error comes from the graph's run, not a line "
            "of your code (check the input, context and recursion_limit)",
        )
    filename, line, source = frame
    shown = Path(filename).resolve().relative_to(prepared.code_root).as_posix()
    if prov.pinned and prov.code_commit:
        shown = f"{prov.code_commit[:12]}:{shown}"
    hint = f"{shown}, line {line}: {source}" if source else None
    return UserCodeError(f"{message} (at {shown}, line {line})", hint=hint)


@dataclass(frozen=True)
class RunOptions:
    """How a run executes, beyond its input: the SDK's run parameters gitassist honours."""

    command: Mapping[str, Any] | None = None
    interrupt_before: str | Sequence[str] | None = None
    interrupt_after: str | Sequence[str] | None = None
    subgraphs: bool = False
    durability: str | None = None
    checkpoint_id: str | None = None
    checkpoint_ns: str = ""

    def graph_input(self, input: Any) -> Any:
        if self.command is None:
            return input
        from langgraph.types import Command

        allowed = {"update", "resume", "goto"}
        unknown = set(self.command) - allowed
        if unknown:
            raise ValidationFailed(
                f"command: unknown key {sorted(unknown)[0]!r}",
                [],
                hint="a command has resume, update and/or goto",
            )
        return Command(**self.command)

    def stream_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"subgraphs": self.subgraphs}
        for key in ("interrupt_before", "interrupt_after", "durability"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


#: Threads with a run in progress in this process: another run on one is refused (409, as
#: the server's multitask_strategy="reject"). A thread left "busy" by a crashed process is not
#: in it, so a crash never locks a thread.
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def thread_running(thread_id: str | None) -> bool:
    """Whether a run on this thread is in progress in this process."""
    with _ACTIVE_LOCK:
        return thread_id in _ACTIVE


class Run:
    """The bookkeeping of one run: its id, its records, and its event shaping."""

    def __init__(
        self,
        db: ThreadDB,
        prepared: PreparedRun,
        thread_id: str | None,
        shaper: StreamShaper,
        metadata: Mapping[str, Any] | None,
        input: Any,
        options: RunOptions,
    ) -> None:
        self.db = db
        self.prepared = prepared
        self.thread_id = thread_id
        self.shaper = shaper
        self.options = options
        self.run_id = str(uuid.uuid4())
        self.metadata = {**(metadata or {}), **prepared.provenance.to_dict()}
        self.input = input
        self.interrupted = False
        self.recorded_start = False
        configurable = {
            **prepared.config["configurable"],
            "thread_id": thread_id or f"stateless-{self.run_id}",
        }
        if options.checkpoint_id is not None:
            configurable["checkpoint_id"] = options.checkpoint_id
            configurable["checkpoint_ns"] = options.checkpoint_ns
        self.config = {
            **prepared.config,
            **trace_config(prepared.provenance, prepared.config),
            "configurable": configurable,
            "run_id": uuid.UUID(self.run_id),
            "run_name": prepared.provenance.name,
        }

    def start(self) -> StreamPart:
        self.record_start()
        data = {
            "run_id": self.run_id,
            "attempt": 1,
            "thread_id": self.thread_id,
            **self.prepared.provenance.to_dict(),
        }
        return StreamPart("metadata", data)

    def record_start(self) -> None:
        """Record the run on its thread (once) and mark the thread busy."""
        if self.thread_id is not None and not self.recorded_start:
            with _ACTIVE_LOCK:
                if self.thread_id in _ACTIVE:
                    raise Conflict(
                        f"Thread {self.thread_id} is already running a task",
                        hint="wait for the run to end (multitask_strategy='reject')",
                    )
                _ACTIVE.add(self.thread_id)
            try:
                self._add_record()
            except BaseException:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(self.thread_id)
                raise
            self.recorded_start = True

    def _add_record(self) -> None:
        assert self.thread_id is not None
        prov = self.prepared.provenance
        self.db.add_run(
            self.run_id,
            self.thread_id,
            prov.assistant_id,
            self.metadata,
            {
                "input": self.input,
                "command": self.options.command,
                "context": self.prepared.context,
                "config": {k: v for k, v in self.prepared.config.items() if k != "configurable"},
            },
        )
        self.db.update(self.thread_id, status="busy")

    def record(self) -> dict[str, Any]:
        """The run as ``runs.get`` returns it (a minimal one for a stateless run)."""
        if self.thread_id is not None:
            for run in self.db.runs(self.thread_id):
                if run["run_id"] == self.run_id:
                    return run
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.prepared.provenance.assistant_id,
            "status": "pending",
            "metadata": self.metadata,
            "multitask_strategy": "reject",
        }

    def final_values(self) -> Any:
        return jsonable(self.shaper.last_values)

    def parts(self, item: Any) -> list[StreamPart]:
        """The events for one item of the graph's stream (``(ns, mode, chunk)`` with subgraphs)."""
        if not self.options.subgraphs:
            mode, chunk = item
            return self.shaper.parts(mode, chunk)
        ns, mode, chunk = item
        if not ns:
            return self.shaper.parts(mode, chunk)
        if mode == "values" and self.shaper.hidden_values:
            return []
        suffix = "|".join(ns)
        return [
            StreamPart(f"{p.event}|{suffix}", p.data, p.id)
            for p in StreamShaper(self.shaper.modes).parts(mode, chunk)
        ]

    def saw_state(self, snapshot: Any) -> None:
        """After the graph stopped: an interrupt or a pending node leaves the thread interrupted."""
        self.interrupted = bool(snapshot.next) or bool(getattr(snapshot, "interrupts", ()))

    @contextlib.contextmanager
    def recorded(self) -> Iterator[None]:
        """Record how the run ends; an error in the graph's code becomes a UserCodeError."""
        status = "interrupted"
        try:
            yield
            status = "interrupted" if self.interrupted else "success"
        except Exception as exc:
            status = "error"
            error = self.failed(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            if status != "error":
                self.finish(status)

    def finish(self, status: str, error: str | None = None) -> None:
        if self.thread_id is None:
            return
        self.db.finish_run(self.run_id, status, error)
        thread = self.db.get(self.thread_id)
        meta = dict(thread["metadata"]) if thread else {}
        prov = self.prepared.provenance
        meta.setdefault("graph_id", prov.graph_id)
        meta.setdefault("assistant_id", prov.assistant_id)
        thread_status = (
            "error" if status == "error" else "interrupted" if self.interrupted else "idle"
        )
        self.db.update(self.thread_id, metadata=meta, status=thread_status)
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self.thread_id)

    def failed(self, exc: Exception) -> GitassistError:
        error = exc if isinstance(exc, GitassistError) else _user_error(exc, self.prepared)
        self.finish("error", str(error))
        return error
