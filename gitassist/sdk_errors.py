"""gitassist's errors as the SDK's: what ``client.*`` raises is also a ``langgraph_sdk`` error.

Code written against a LangGraph deployment catches ``httpx.HTTPStatusError`` (or
``langgraph_sdk.errors.NotFoundError`` …) and looks at ``e.response.status_code``. At the
client boundary (:mod:`gitassist.client`, only there) a :class:`~gitassist.errors.GitassistError`
is re-raised as an instance of a class that derives from both its own class and the SDK error
for its HTTP status: ``except NotFound`` and ``except NotFoundError`` both catch it, and
``e.response`` is a real ``httpx.Response`` whose JSON body is ``{"detail": message}``, as the
server sends it. httpx and langgraph_sdk are imported only when an error is translated, so
the CLI never pays for them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from gitassist.errors import (
    ConfigError,
    Conflict,
    DocumentError,
    GitassistError,
    NotFound,
    UnsafePath,
    ValidationFailed,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

P = ParamSpec("P")
R = TypeVar("R")

#: The HTTP status each error class answers with (the first match in the MRO wins).
STATUS: dict[type[GitassistError], int] = {
    NotFound: 404,
    Conflict: 409,
    ValidationFailed: 422,
    DocumentError: 422,
    ConfigError: 422,
    UnsafePath: 422,  # a symlinked or escaping working-tree file (a document, the .env)
}

_COMBINED: dict[tuple[type[GitassistError], int], type[GitassistError]] = {}


def bad_request(message: str, *, hint: str | None = None) -> ValidationFailed:
    """A ValidationFailed that the client reports as 400, as the server does for that input."""
    error = ValidationFailed(message, [], hint=hint)
    error.http_status = 400  # type: ignore[attr-defined]
    return error


def status_of(exc: GitassistError) -> int | None:
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return None


def _sdk_class(status: int) -> type[Exception]:
    from langgraph_sdk import errors as sdk

    classes: dict[int, type[Exception]] = {
        400: sdk.BadRequestError,
        404: sdk.NotFoundError,
        409: sdk.ConflictError,
        422: sdk.UnprocessableEntityError,
    }
    return classes.get(status, sdk.APIStatusError)


def _combined(cls: type[GitassistError], status: int) -> type[GitassistError]:
    key = (cls, status)
    if key not in _COMBINED:
        sdk_cls = _sdk_class(status)
        _COMBINED[key] = type(cls.__name__, (cls, sdk_cls), {"__module__": cls.__module__})
    return _COMBINED[key]


def to_sdk(exc: GitassistError) -> GitassistError:
    """``exc`` as an instance of its own class and of the SDK error for its status."""
    status = status_of(exc)
    if status is None or getattr(exc, "response", None) is not None:
        return exc
    import httpx
    from langgraph_sdk.errors import APIStatusError

    body = {"detail": exc.message}
    request = httpx.Request("POST", "http://gitassist.local/")
    response = httpx.Response(status, json=body, request=request)
    new = _combined(type(exc), status).__new__(_combined(type(exc), status))
    APIStatusError.__init__(new, str(exc), response=response, body=body)  # type: ignore[arg-type]
    new.__dict__.update(exc.__dict__)
    new.args = exc.args
    new.code = type(exc).code
    new.__cause__ = exc.__cause__
    new.__context__ = exc.__context__
    new.__suppress_context__ = exc.__suppress_context__
    return new.with_traceback(exc.__traceback__)


def sdk_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a client method: a GitassistError leaves it as the SDK's error too."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except GitassistError as exc:
            raise to_sdk(exc) from exc.__cause__

    return call


def sdk_errors_iter(parts: Iterator[R]) -> Iterator[R]:
    try:
        yield from parts
    except GitassistError as exc:
        raise to_sdk(exc) from exc.__cause__


async def sdk_errors_aiter(parts: AsyncIterator[R]) -> AsyncIterator[R]:
    try:
        async for part in parts:
            yield part
    except GitassistError as exc:
        raise to_sdk(exc) from exc.__cause__
