"""How runs arguments reach the runner, and the async and ``version="v2"`` stream adapters."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from gitassist.client_base import refuse, unsupported
from gitassist.errors import GitassistError, ValidationFailed
from gitassist.sdk_errors import sdk_errors_aiter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping

    from gitassist.events import StreamPart

P = ParamSpec("P")

#: Run parameters gitassist honours, passed on to the runner as they are.
_HONOURED = (
    "input",
    "command",
    "stream_mode",
    "stream_subgraphs",
    "metadata",
    "config",
    "context",
    "checkpoint",
    "checkpoint_id",
    "interrupt_before",
    "interrupt_after",
    "if_not_exists",
    "durability",
    "rev",
    "pin",
)
#: Run parameters that need a server: refused when given (None/False are their defaults).
_REFUSED = (
    "stream_resumable",
    "checkpoint_during",
    "feedback_keys",
    "on_disconnect",
    "webhook",
    "after_seconds",
    "langsmith_tracing",
    "strict_resume",
)


def run_options(method: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The runner's keyword arguments from a runs method's arguments; refuse what we can't do."""
    refuse(method, **{k: given[k] for k in _REFUSED if k in given})
    if given.get("version", "v1") not in ("v1", "v2"):
        raise ValidationFailed(f"version must be 'v1' or 'v2', not {given['version']!r}", [])
    if given.get("multitask_strategy") not in (None, "reject"):
        raise unsupported(method, "multitask_strategy", given["multitask_strategy"])
    if given.get("on_completion") not in (None, "delete", "keep"):
        raise ValidationFailed("on_completion must be 'delete' or 'keep'", [])
    if given.get("input") is not None and given.get("command") is not None:
        raise ValidationFailed("pass either input or command, not both", [])
    return {k: given[k] for k in _HONOURED if given.get(k) not in (None, False)}


def bound_arguments(
    method: Callable[..., Any], self: Any, args: Any, kwargs: Any
) -> dict[str, Any]:
    bound = inspect.signature(method).bind(self, *args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def as_v2(parts: Iterator[StreamPart]) -> Iterator[dict[str, Any]]:
    from gitassist.events import v2_part

    for part in parts:
        yield v2_part(part)


async def aas_v2(parts: AsyncIterator[StreamPart]) -> AsyncIterator[dict[str, Any]]:
    from gitassist.events import v2_part

    async for part in parts:
        yield v2_part(part)


def announce(parts: Iterator[StreamPart], on_run_created: Any) -> Iterator[StreamPart]:
    for part in parts:
        if part.event == "metadata" and on_run_created is not None:
            on_run_created({"run_id": part.data["run_id"], "thread_id": part.data["thread_id"]})
        yield part


def astream_of(
    method: Callable[Concatenate[Any, P], Iterator[StreamPart]],
) -> Callable[Concatenate[Any, P], AsyncIterator[StreamPart]]:
    """The async stream with the sync one's signature: the graph runs asynchronously."""

    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[StreamPart]:
        given = bound_arguments(method, self._sync, args, kwargs)
        try:
            options = run_options("runs.stream", given)
        except GitassistError as exc:
            from gitassist.sdk_errors import to_sdk

            raise to_sdk(exc) from exc.__cause__
        parts = self.runner.astream(given["thread_id"], given["assistant_id"], **options)
        shaped = sdk_errors_aiter(aannounce(parts, given.get("on_run_created")))
        return aas_v2(shaped) if given["version"] == "v2" else shaped  # type: ignore[return-value]

    functools.update_wrapper(call, method)
    return call


def await_of(
    method: Callable[Concatenate[Any, P], Any],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, Any]]:
    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        given = bound_arguments(method, self._sync, args, kwargs)
        try:
            options = run_options("runs.wait", given)
            return await self.runner.await_(
                given["thread_id"],
                given["assistant_id"],
                raise_error=given["raise_error"],
                on_run_created=given.get("on_run_created"),
                **options,
            )
        except GitassistError as exc:
            from gitassist.sdk_errors import to_sdk

            raise to_sdk(exc) from exc.__cause__

    functools.update_wrapper(call, method)
    return call


async def aannounce(
    parts: AsyncIterator[StreamPart], on_run_created: Any
) -> AsyncIterator[StreamPart]:
    async for part in parts:
        if part.event == "metadata" and on_run_created is not None:
            on_run_created({"run_id": part.data["run_id"], "thread_id": part.data["thread_id"]})
        yield part


def ajoin_stream_of(
    method: Callable[Concatenate[Any, P], Iterator[StreamPart]],
) -> Callable[Concatenate[Any, P], AsyncIterator[StreamPart]]:
    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[StreamPart]:
        return aiter_in_thread(method(self._sync, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call


async def aiter_in_thread(parts: Iterator[StreamPart]) -> AsyncIterator[StreamPart]:
    done = object()
    while True:
        part = await asyncio.to_thread(next, parts, done)
        if part is done:
            return
        yield part  # type: ignore[misc]
