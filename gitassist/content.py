"""An assistant's content on either side of a sync: git's version and the server's, comparable.

The content is what sync keeps equal (graph_id, name, description, context, config,
metadata). :func:`server_content` normalises the server's quirks so the two compare: it
mirrors ``context`` into ``config.configurable``; it merges metadata, so a key git removed can
only be set to null (null and absent are treated alike); the SDK cannot send an empty
description, so "" and no description are treated alike; the stamps sync writes into metadata
(:data:`STAMP_VERSION`, :data:`STAMP_COMMIT`, :data:`STAMP_ID`) are not content.

:class:`Desired` is git's latest version of one assistant as the server should hold it, and
:func:`git_state` reads every one of them (and the ids git deleted) from the refs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.project import default_assistant_id

if TYPE_CHECKING:
    from gitassist.documents import AssistantDocument
    from gitassist.resolve import Resolved
    from gitassist.store import Store

STAMP_VERSION = "gitassist_version"
STAMP_COMMIT = "gitassist_commit"
STAMP_ID = "gitassist_assistant_id"
STAMPS = (STAMP_VERSION, STAMP_COMMIT, STAMP_ID)


@dataclass(frozen=True)
class FieldDiff:
    """One difference: a dotted path, git's value and the server's (``None``: absent)."""

    path: str
    git: Any
    server: Any


@dataclass(frozen=True)
class Stamp:
    """What sync wrote into an assistant's metadata."""

    version: int
    commit: str


@dataclass(frozen=True)
class Desired:
    """Git's latest version of one assistant, as the server should hold it."""

    resolved: Resolved

    @property
    def assistant_id(self) -> str:
        return self.resolved.assistant_id

    @property
    def version(self) -> int:
        return self.resolved.version or 1

    @property
    def commit(self) -> str:
        return self.resolved.commit or ""

    def content(self) -> dict[str, Any]:
        return git_content(self.resolved.document)

    def stamps(self) -> dict[str, Any]:
        return {STAMP_VERSION: self.version, STAMP_COMMIT: self.commit, STAMP_ID: self.assistant_id}

    def payload(self, server: dict[str, Any] | None) -> dict[str, Any]:
        """The whole content to send: nothing is left for the server to carry over."""
        content = self.content()
        metadata = {**content["metadata"], **self.stamps()}
        for key, value in ((server or {}).get("metadata") or {}).items():
            if key not in metadata and value is not None:
                metadata[key] = None  # the server merges metadata: null is how a key goes
        # "configurable": {} keeps the server from carrying the old config over when the
        # context is empty; with a context it mirrors the context into it itself
        config = {**content["config"], "configurable": {}}
        return {
            "assistant_id": self.assistant_id,
            "graph_id": content["graph_id"],
            "name": content["name"],
            "description": content["description"],
            "context": content["context"],
            "config": config,
            "metadata": metadata,
        }


def git_content(document: AssistantDocument) -> dict[str, Any]:
    data = document.canonical()
    return {
        "graph_id": data["graph_id"],
        "name": data["name"],
        "description": data["description"] or None,
        "context": data["context"],
        "config": data["config"],
        "metadata": {k: v for k, v in data["metadata"].items() if v is not None},
    }


def server_content(assistant: dict[str, Any]) -> dict[str, Any]:
    """The server's assistant as git would write it: quirks and stamps normalised away."""
    context = assistant.get("context") or {}
    config = dict(assistant.get("config") or {})
    configurable = config.pop("configurable", None)
    config = {k: v for k, v in config.items() if v not in (None, [])}
    if configurable and configurable != context:
        config["configurable"] = configurable  # runs may see these: a real difference
    metadata = {
        k: v
        for k, v in (assistant.get("metadata") or {}).items()
        if v is not None and k not in STAMPS
    }
    return {
        "graph_id": assistant.get("graph_id"),
        "name": assistant.get("name"),
        "description": assistant.get("description") or None,
        "context": context,
        "config": config,
        "metadata": metadata,
    }


def _key(data: Any) -> str:
    from gitassist.documents import canonical_json

    return canonical_json(data)


def same_content(git: dict[str, Any], server: dict[str, Any]) -> bool:
    return _key(git) == _key(server)


def diff_fields(git: Any, server: Any, prefix: str = "") -> list[FieldDiff]:
    """Field-level differences, recursing into mappings (lists compare whole)."""
    if isinstance(git, dict) and isinstance(server, dict):
        out: list[FieldDiff] = []
        for key in sorted(set(git) | set(server)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in server:
                out.append(FieldDiff(path, git[key], None))
            elif key not in git:
                out.append(FieldDiff(path, None, server[key]))
            else:
                out.extend(diff_fields(git[key], server[key], path))
        return out
    if _key(git) == _key(server):
        return []
    return [FieldDiff(prefix or "$", git, server)]


def stamp_of(assistant: dict[str, Any]) -> Stamp | None:
    """The gitassist stamp, when it is there and names this very assistant."""
    metadata = assistant.get("metadata") or {}
    version = metadata.get(STAMP_VERSION)
    if metadata.get(STAMP_ID) != assistant.get("assistant_id"):
        return None  # a copy made in Studio carries another assistant's stamp
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    return Stamp(version, str(metadata.get(STAMP_COMMIT) or ""))


def is_default(assistant: dict[str, Any], graph_ids: set[str]) -> bool:
    """A graph's default assistant (the server makes one per graph)."""
    graph_id = str(assistant.get("graph_id") or "")
    if (assistant.get("metadata") or {}).get("created_by") == "system":
        return True
    return assistant.get("assistant_id") in {
        default_assistant_id(g) for g in {graph_id, *graph_ids}
    }


# --------------------------------------------------------------------------- git's side


@dataclass(frozen=True)
class GitState:
    """Git's latest version of every live assistant, and the ids git deleted."""

    desired: dict[str, Desired]
    deleted: dict[str, str]  # id -> name of its last version
    not_promoted: dict[str, str] = field(default_factory=dict)  # id -> name (environments)
    environment: str | None = None


def git_state(store: Store) -> GitState:
    """Every assistant with a latest ref (graphs' defaults only when a file configures them);
    on a store bound to an environment, what that environment's pointers hold."""
    from gitassist.resolve import from_latest, recorded_ids
    from gitassist.versions import read_latest

    desired: dict[str, Desired] = {}
    deleted: dict[str, str] = {}
    not_promoted: dict[str, str] = {}
    environment = store.environment
    for assistant_id in sorted(recorded_ids(store)):
        state = read_latest(store, assistant_id, environment)
        if state is None and environment is not None:
            latest = read_latest(store, assistant_id)
            if latest is not None and not latest.deleted:
                not_promoted[assistant_id] = from_latest(store, latest).document.name
            continue
        if state is None:
            continue
        resolved = from_latest(store, state)
        if state.deleted:
            deleted[assistant_id] = resolved.document.name
        else:
            desired[assistant_id] = Desired(resolved)
    return GitState(desired, deleted, not_promoted, environment)
