"""``client.runs``: runs execute in this process, with langgraph_sdk's methods and events."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gitassist.client_base import check_args, check_page, in_thread, refuse, unsupported
from gitassist.client_streams import (
    ajoin_stream_of,
    announce,
    as_v2,
    astream_of,
    await_of,
    run_options,
)
from gitassist.errors import NotFound, ValidationFailed
from gitassist.sdk_errors import sdk_errors, sdk_errors_iter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from concurrent.futures import Future, ThreadPoolExecutor

    from gitassist.events import StreamPart
    from gitassist.runner import Runner
    from gitassist.store import Store


class _BackgroundRun:
    def __init__(self, future: Future[Any], parts: list[StreamPart]) -> None:
        self.future = future
        self.parts = parts


class SyncRunsClient:
    """``client.runs`` (sync): runs execute in this process (background ones in a thread)."""

    def __init__(self, store: Store) -> None:
        from gitassist.runner import Runner

        self.runner = Runner(store)
        self._background: dict[str, _BackgroundRun] = {}
        self._lock = threading.Lock()

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=4, thread_name_prefix="gitassist-run")

    def close(self) -> None:
        if "_pool" in self.__dict__:
            self._pool.shutdown(wait=True)
            del self.__dict__["_pool"]

    @sdk_errors
    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: str | Sequence[str] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: str | None = None,
        on_completion: str | None = None,
        webhook: str | None = None,
        multitask_strategy: str | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        on_run_created: Callable[[Any], None] | None = None,
        durability: str | None = None,
        strict_resume: bool | None = None,
        version: str = "v1",
        rev: str | None = None,
        pin: bool = False,
    ) -> Iterator[StreamPart]:
        check_args("runs.stream", locals())
        options = run_options("runs.stream", locals())
        parts = self.runner.stream(thread_id, assistant_id, **options)
        shaped = sdk_errors_iter(announce(parts, on_run_created))
        return as_v2(shaped) if version == "v2" else shaped  # type: ignore[return-value]

    @sdk_errors
    def wait(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        checkpoint_during: bool | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        webhook: str | None = None,
        on_disconnect: str | None = None,
        on_completion: str | None = None,
        multitask_strategy: str | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        raise_error: bool = True,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        on_run_created: Callable[[Any], None] | None = None,
        durability: str | None = None,
        strict_resume: bool | None = None,
        rev: str | None = None,
        pin: bool = False,
    ) -> Any:
        check_args("runs.wait", locals())
        options = run_options("runs.wait", locals())
        return self.runner.wait(
            thread_id,
            assistant_id,
            raise_error=raise_error,
            on_run_created=on_run_created,
            **options,
        )

    @sdk_errors
    def create(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: str | Sequence[str] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: str | None = None,
        if_not_exists: str | None = None,
        on_completion: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        on_run_created: Callable[[Any], None] | None = None,
        durability: str | None = None,
        strict_resume: bool | None = None,
        rev: str | None = None,
        pin: bool = False,
    ) -> dict[str, Any]:
        check_args("runs.create", locals())
        options = run_options("runs.create", locals())
        run = self.runner.begin(thread_id, assistant_id, **options)
        run.record_start()
        collected: list[StreamPart] = []

        def consume() -> Any:
            for part in self.runner.stream_run(run):
                collected.append(part)
            return run.final_values()

        with self._lock:
            self._background[run.run_id] = _BackgroundRun(self._pool.submit(consume), collected)
        if on_run_created is not None:
            on_run_created({"run_id": run.run_id, "thread_id": thread_id})
        return run.record()

    def _background_run(self, thread_id: str, run_id: str) -> _BackgroundRun:
        with self._lock:
            found = self._background.get(run_id)
        if found is None:
            self.get(thread_id, run_id)  # NotFound for an unknown run
            raise ValidationFailed(
                f"run {run_id} was not started by this client: gitassist can join only the "
                "background runs of the client that created them",
                [],
            )
        return found

    @sdk_errors
    def join(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        check_args("runs.join", locals())
        background = self._background_run(thread_id, run_id)
        # an error is recorded on the run, as the server does; join returns the thread's values
        background.future.exception()
        return self.runner.threads.get(thread_id)["values"] or {}

    @sdk_errors
    def join_stream(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool = False,
        stream_mode: str | Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        last_event_id: str | None = None,
    ) -> Iterator[StreamPart]:
        return sdk_errors_iter(self._join_stream(thread_id, run_id, stream_mode, last_event_id))

    def _join_stream(
        self,
        thread_id: str,
        run_id: str,
        stream_mode: str | Sequence[str] | None,
        last_event_id: str | None,
    ) -> Iterator[StreamPart]:
        check_args("runs.join_stream", locals())
        refuse("runs.join_stream", last_event_id=last_event_id)
        background = self._background_run(thread_id, run_id)
        background.future.exception()  # wait for the end (its error is on the run record)
        modes = [stream_mode] if isinstance(stream_mode, str) else stream_mode
        for part in background.parts:
            if part.event != "metadata" and (modes is None or part.event.split("|")[0] in modes):
                yield part

    @sdk_errors
    def cancel(
        self,
        thread_id: str,
        run_id: str,
        *,
        wait: bool = False,
        action: str = "interrupt",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        check_args("runs.cancel", locals())
        background = self._background_run(thread_id, run_id)
        if not background.future.done():
            raise unsupported("runs.cancel", "run_id", run_id)

    @sdk_errors
    def list(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        status: str | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        check_args("runs.list", locals())
        check_page(limit, offset)
        runs = [
            r
            for r in reversed(self.runner.threads.runs(thread_id))
            if status is None or r["status"] == status
        ]
        page = runs[offset : offset + limit]
        return [{k: r[k] for k in select if k in r} for r in page] if select else page

    @sdk_errors
    def get(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        check_args("runs.get", locals())
        for run in self.runner.threads.runs(thread_id):
            if run["run_id"] == run_id:
                return run
        raise NotFound(f"Run {run_id} not found")

    @sdk_errors
    def delete(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        check_args("runs.delete", locals())
        self.get(thread_id, run_id)
        self.runner.threads.db.delete_run(run_id)


class RunsClient:
    """``client.runs`` (async), with langgraph_sdk's names and event shapes."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncRunsClient(store)
        self.runner: Runner = self._sync.runner

    stream = astream_of(SyncRunsClient.stream)
    wait = await_of(SyncRunsClient.wait)
    create = in_thread(SyncRunsClient.create)
    join = in_thread(SyncRunsClient.join)
    join_stream = ajoin_stream_of(SyncRunsClient.join_stream)
    cancel = in_thread(SyncRunsClient.cancel)
    list = in_thread(SyncRunsClient.list)
    get = in_thread(SyncRunsClient.get)
    delete = in_thread(SyncRunsClient.delete)
