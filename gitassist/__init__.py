"""gitassist: LangGraph assistants as YAML in git, versioned by commits and refs.

The public API mirrors langgraph_sdk::

    from gitassist import get_client
    client = get_client(repo=".")
    assistant = await client.assistants.create("agent", context={"model_name": "openai"})

The names below are loaded on first use (PEP 562), so ``import gitassist`` and ``gitassist
--help`` load neither pygit2 nor pydantic; ``from gitassist import Store`` works as usual.
"""

from __future__ import annotations

from gitassist._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~5 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

    from gitassist.client import get_client, get_sync_client
    from gitassist.documents import AssistantDocument, RunConfig
    from gitassist.errors import (
        ConfigError,
        Conflict,
        DocumentError,
        GitassistError,
        NotFound,
        RemoteError,
        RepositoryError,
        UserCodeError,
        ValidationFailed,
    )
    from gitassist.store import Store


# public name -> the module that defines it
_LAZY = {
    "get_client": "gitassist.client",
    "get_sync_client": "gitassist.client",
    "AssistantDocument": "gitassist.documents",
    "RunConfig": "gitassist.documents",
    "ConfigError": "gitassist.errors",
    "Conflict": "gitassist.errors",
    "DocumentError": "gitassist.errors",
    "GitassistError": "gitassist.errors",
    "NotFound": "gitassist.errors",
    "RemoteError": "gitassist.errors",
    "RepositoryError": "gitassist.errors",
    "UserCodeError": "gitassist.errors",
    "ValidationFailed": "gitassist.errors",
    "Store": "gitassist.store",
}

__all__ = [
    "AssistantDocument",
    "ConfigError",
    "Conflict",
    "DocumentError",
    "GitassistError",
    "NotFound",
    "RemoteError",
    "RepositoryError",
    "RunConfig",
    "Store",
    "UserCodeError",
    "ValidationFailed",
    "__version__",
    "get_client",
    "get_sync_client",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gitassist' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup does not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
