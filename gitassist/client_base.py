"""What the client modules share: argument checks, ``config.configurable``, async twins.

:mod:`gitassist.client` is the entry point; ``client_assistants``, ``client_threads`` and
``client_runs`` hold the three groups of methods (``client_streams`` the runs' argument
handling and stream adapters), each built on these helpers.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from gitassist.errors import ValidationFailed
from gitassist.sdk_errors import bad_request

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

P = ParamSpec("P")
R = TypeVar("R")

MAX_LIMIT = 1000
BOTH_CONFIGURABLE_AND_CONTEXT = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)


def unsupported(method: str, name: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        f"{method}: gitassist cannot honour {name}={value!r} locally",
        [],
        hint=f"leave {name} out (it needs a LangGraph server); see docs/sdk-compat.md",
    )


def refuse(method: str, **given: Any) -> None:
    """Raise for the first parameter given a value other than its default (None/False)."""
    for name, value in given.items():
        if value is not None and value is not False:
            raise unsupported(method, name, value)


def check_page(limit: Any, offset: Any) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}", [])
    if not isinstance(offset, int) or offset < 0:
        raise ValidationFailed(f"offset must be an integer >= 0, not {offset!r}", [])


_KINDS: dict[str, str] = {
    "str": "a string",
    "object": "an object (a mapping)",
    "strings": "a list of strings",
    "int": "an integer",
    "uuid": "a string",
}


def _is(kind: str, value: Any) -> bool:
    from collections.abc import Mapping

    if kind == "object":
        return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)
    if kind in ("str", "uuid"):
        return isinstance(value, str)
    if kind == "strings":
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


#: The kind of each SDK argument the client checks before anything reads it.
ARG_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("assistant_id", "graph_id", "name", "description", "if_exists", "author", "message"),
        "str",
    ),
    **dict.fromkeys(("config", "context", "metadata"), "object"),
    "dir": "str",
    "select": "strings",
    "thread_id": "uuid",
    "run_id": "uuid",
}


def check_args(method: str, given: Mapping[str, Any]) -> None:
    """Each argument in ``given`` (a method's ``locals()``) that :data:`ARG_KINDS` names is
    None or of its kind, and an object holds JSON only (as the server requires of a body):
    else a 422 naming the field, as the server answers, not a TypeError or a pydantic error
    from deep inside. Values are never quoted (one may be a secret)."""
    import json

    for name, value in given.items():
        kind = ARG_KINDS.get(name)
        if kind is None or value is None:
            continue
        if not _is(kind, value):
            raise ValidationFailed(
                f"{method}: {name} must be {_KINDS[kind]}, not {type(value).__name__}", []
            )
        if kind == "uuid":
            _check_uuid(method, name, value)
        if kind == "object":
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ValidationFailed(
                    f"{method}: {name} must hold JSON values only ({exc})", []
                ) from None


#: Where the server answers a thread id that is not a UUID otherwise than with its usual
#: 422 "Invalid thread ID: must be a UUID" (measured against ``langgraph dev``).
_UUID_ANSWERS: dict[str, tuple[int, str]] = {
    "runs.wait": (400, "badly formed hexadecimal UUID string"),
    "runs.stream": (400, "badly formed hexadecimal UUID string"),
    "threads.copy": (400, "badly formed hexadecimal UUID string"),
    "runs.create": (422, "Invalid thread ID"),
}


def _check_uuid(method: str, name: str, value: str) -> None:
    """A thread or run id is a UUID, as the server requires (its status and message)."""
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        status, message = _UUID_ANSWERS.get(method, (422, ""))
        if status == 400 and name == "thread_id":
            raise bad_request(message) from None
        if not message or name != "thread_id":
            message = f"Invalid {name.removesuffix('_id')} ID: must be a UUID"
        raise ValidationFailed(message, []) from None


def split_configurable(
    config: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``config.configurable`` taken as the context, as the server does (400 if both given)."""
    if config is None:
        return None, None if context is None else dict(context)
    rest = dict(config)
    configurable = rest.pop("configurable", None)
    if configurable and context:
        raise bad_request(BOTH_CONFIGURABLE_AND_CONTEXT)
    if configurable and not context:
        return rest, dict(configurable)
    return rest, None if context is None else dict(context)


def assistant_api(data: dict[str, Any]) -> dict[str, Any]:
    """An assistant (or version row) with ``config.configurable`` mirroring its context."""
    config = {k: v for k, v in data["config"].items() if k != "configurable"}
    if data.get("context"):
        config["configurable"] = dict(data["context"])
    return {**data, "config": config}


def in_thread(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """The async twin of a sync client method: same signature, runs in a worker thread."""

    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self._sync, *args, **kwargs)

    functools.update_wrapper(call, method)
    return call
