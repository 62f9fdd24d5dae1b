"""gitassist: LangGraph assistants as YAML in git, versioned by commits and refs.

The public API mirrors langgraph_sdk::

    from gitassist import get_client
    client = get_client(repo=".")
    assistant = await client.assistants.create("agent", context={"model_name": "openai"})
"""

from gitassist._version import __version__
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
