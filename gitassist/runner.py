"""Run a resolved assistant locally, with threads, streaming and provenance.

A run goes one way: :func:`gitassist.run_prepare.prepare` resolves the target, validates the
merged context and loads the graph → :meth:`Runner.begin` checks (or creates) the thread →
the graph executes with ``context=`` and the assistant's config, and its stream becomes
:class:`~gitassist.events.StreamPart` events in the shapes langgraph_sdk yields: ``metadata``
first (``run_id`` plus the provenance), then one event per step (:mod:`gitassist.events`).
A :class:`~gitassist.run_record.Run` keeps one run's records.

A run on a thread keeps its state in the thread's checkpoints and records itself beside them
(:mod:`gitassist.threads`). Nothing here imports langgraph at module level: only running and
thread commands pay for it. The SDK-shaped ``client.runs`` and ``client.threads`` over this
live in :mod:`gitassist.client_runs` and :mod:`gitassist.client_threads`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from gitassist.errors import Conflict, NotFound, UserCodeError, ValidationFailed
from gitassist.events import StreamPart, StreamShaper
from gitassist.run_prepare import prepare
from gitassist.run_record import Run, RunOptions, thread_running
from gitassist.threads import ThreadStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence

    from gitassist.store import Store

__all__ = ["Runner"]


# --------------------------------------------------------------------------- the runner


def _checkpoint_target(
    checkpoint: Mapping[str, Any] | None, checkpoint_id: str | None
) -> tuple[str | None, str]:
    if checkpoint is None:
        return checkpoint_id, ""
    return checkpoint.get("checkpoint_id") or checkpoint_id, checkpoint.get("checkpoint_ns") or ""


class Runner:
    """Runs assistants of one repository, statelessly or on its threads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.threads = ThreadStore(store)

    def begin(
        self,
        thread_id: str | None,
        target: str | None,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: str | Sequence[str] = "values",
        stream_subgraphs: bool = False,
        context: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        durability: str | None = None,
        rev: str | None = None,
        pin: bool = False,
        if_not_exists: str | None = None,
    ) -> Run:
        """Everything before a run: its thread checked (or created) and the run prepared."""
        shaper = StreamShaper(stream_mode)
        db = self.threads.db
        thread = db.get(thread_id) if thread_id is not None else None
        if thread_id is not None and thread is None and if_not_exists != "create":
            raise NotFound(
                f"Thread with ID {thread_id} not found",
                hint="create it first (gitassist threads create), or pass if_not_exists='create'",
            )
        if thread_running(thread_id):
            raise Conflict(
                f"Thread {thread_id} is already running a task",
                hint="wait for the run to end (multitask_strategy='reject')",
            )
        if thread_id is None and command is not None:
            raise ValidationFailed("a command needs a thread to resume", [])
        if target is None:
            target = (thread or {}).get("metadata", {}).get("assistant_id")
            if target is None:
                raise NotFound("name an assistant to run (the thread has no assistant yet)")
        prepared = prepare(self.store, target, rev=rev, context=context, config=config, pin=pin)
        graph_id = prepared.provenance.graph_id
        if thread is not None:
            started = thread["metadata"].get("graph_id")
            if started is not None and started != graph_id:
                raise Conflict(
                    f"thread {thread_id} belongs to graph {started!r}, not {graph_id!r}",
                    hint="start a new thread for this assistant",
                )
        elif thread_id is not None:
            db.create(
                thread_id, {"graph_id": graph_id, "assistant_id": prepared.provenance.assistant_id}
            )
        cp_id, cp_ns = _checkpoint_target(checkpoint, checkpoint_id)
        options = RunOptions(
            command=command,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            subgraphs=stream_subgraphs,
            durability=durability,
            checkpoint_id=cp_id,
            checkpoint_ns=cp_ns,
        )
        options.graph_input(None)  # a bad command is refused before anything is recorded
        return Run(db, prepared, thread_id, shaper, metadata, input, options)

    # ---------------------------------------------------------------- sync

    @contextlib.contextmanager
    def _graph(self, run: Run) -> Iterator[Any]:
        graph = run.prepared.graph
        if run.thread_id is None:
            yield graph
            return
        with self.threads.saver() as saver:
            yield graph.copy(update={"checkpointer": saver})

    def stream_run(self, run: Run) -> Iterator[StreamPart]:
        if run.shaper.events:  # astream_events exists only async: drive the async run here
            yield from _drive(self.astream_run(run))
            return
        yield run.start()
        with run.recorded(), self._graph(run) as graph:
            for item in graph.stream(
                run.options.graph_input(run.input),
                run.config,
                context=run.prepared.context,
                stream_mode=run.shaper.graph_modes,
                **run.options.stream_kwargs(),
            ):
                yield from run.parts(item)
            if run.thread_id is not None:
                run.saw_state(graph.get_state({"configurable": {"thread_id": run.thread_id}}))

    def stream(
        self, thread_id: str | None, target: str | None, **kwargs: Any
    ) -> Iterator[StreamPart]:
        return self.stream_run(self.begin(thread_id, target, **kwargs))

    def wait(
        self,
        thread_id: str | None,
        target: str | None,
        *,
        raise_error: bool = True,
        on_run_created: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs["stream_mode"] = "values"
        try:
            run = self.begin(thread_id, target, **kwargs)
            if on_run_created is not None:
                on_run_created({"run_id": run.run_id, "thread_id": thread_id})
            for _ in self.stream_run(run):
                pass
        except UserCodeError as exc:
            if raise_error:
                raise
            return _error_value(exc)
        return run.final_values()

    # ---------------------------------------------------------------- async

    @contextlib.asynccontextmanager
    async def _agraph(self, run: Run) -> AsyncIterator[Any]:
        graph = run.prepared.graph
        if run.thread_id is None:
            yield graph
            return
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(self.threads.db_path) as saver:
            yield graph.copy(update={"checkpointer": saver})

    async def astream_run(self, run: Run) -> AsyncIterator[StreamPart]:
        yield run.start()
        with run.recorded():
            async with self._agraph(run) as graph:
                async for part in _agraph_parts(graph, run):
                    yield part
                if run.thread_id is not None:
                    config = {"configurable": {"thread_id": run.thread_id}}
                    run.saw_state(await graph.aget_state(config))

    async def astream(
        self, thread_id: str | None, target: str | None, **kwargs: Any
    ) -> AsyncIterator[StreamPart]:
        run = await asyncio.to_thread(self.begin, thread_id, target, **kwargs)
        async for part in self.astream_run(run):
            yield part

    async def await_(
        self,
        thread_id: str | None,
        target: str | None,
        *,
        raise_error: bool = True,
        on_run_created: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs["stream_mode"] = "values"
        try:
            run = await asyncio.to_thread(self.begin, thread_id, target, **kwargs)
            if on_run_created is not None:
                on_run_created({"run_id": run.run_id, "thread_id": thread_id})
            async for _ in self.astream_run(run):
                pass
        except UserCodeError as exc:
            if raise_error:
                raise
            return _error_value(exc)
        return run.final_values()


async def _agraph_parts(graph: Any, run: Run) -> AsyncIterator[StreamPart]:
    """The run's events from ``graph.astream``, or with stream mode ``events`` from
    ``graph.astream_events(version="v2")`` as the server streams them: the root run's
    ``on_chain_stream`` events carry the other modes' chunks, every other event is an
    ``events`` part."""
    given = run.options.graph_input(run.input)
    kwargs = {"context": run.prepared.context, "stream_mode": run.shaper.graph_modes}
    kwargs.update(run.options.stream_kwargs())
    if not run.shaper.events:
        async for item in graph.astream(given, run.config, **kwargs):
            for part in run.parts(item):
                yield part
        return
    async for event in graph.astream_events(given, run.config, version="v2", **kwargs):
        is_chunk, parts = run.shaper.event_parts(event, run.run_id)  # config's run_id: the root
        for part in run.parts(event["data"]["chunk"]) if is_chunk else parts:
            yield part


def _drive(parts: AsyncIterator[StreamPart]) -> Iterator[StreamPart]:
    """An async stream consumed synchronously, on an event loop of its own in this thread."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(parts))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(parts.aclose())  # type: ignore[attr-defined]
        loop.close()


def _error_value(exc: UserCodeError) -> dict[str, Any]:
    """What ``wait(raise_error=False)`` returns for a failed run, as langgraph_sdk does."""
    return {"__error__": {"error": type(exc).__name__, "message": str(exc)}}
