"""Numbered versions and the active ("latest") version of each assistant, kept in refs.

Layout (see docs/refs.md)::

    refs/assistants/<id>/versions/<n>  -> annotated tag -> the commit that made version n
    refs/assistants/<id>/latest        -> "pointer" commit: tree of the active version's commit,
                                          first parent the previous pointer (a log of moves)
    refs/gitassist/applied             -> "apply" commit: records the branch commit applied

Tag and pointer messages end in a JSON object, so reading a version or the active version is
one object read plus one blob read: no tree walk, no history walk, whatever the repository's
size. Version tags never move, so version N resolves to the same content after a rebase or a
force-push, and all of it travels with ``git push``/``git fetch`` of ``refs/assistants/*``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pygit2

from gitassist.errors import NotFound

if TYPE_CHECKING:
    from gitassist.documents import AssistantDocument
    from gitassist.store import Store

NAMESPACE = "refs/assistants"
APPLIED_REF = "refs/gitassist/applied"


def latest_ref(assistant_id: str) -> str:
    return f"{NAMESPACE}/{assistant_id}/latest"


def version_ref(assistant_id: str, number: int) -> str:
    return f"{NAMESPACE}/{assistant_id}/versions/{number}"


def iso(timestamp: int | float) -> str:
    """ISO-8601 UTC with microseconds, as the LangGraph API writes timestamps."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="microseconds")


def split_message(message: str) -> tuple[str, dict[str, Any]]:
    """A gitassist message: a summary, a blank line, and a JSON object."""
    summary, _, body = message.partition("\n\n")
    start = body.find("{")
    try:
        data = json.loads(body[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        data = {}
    return summary, data


def join_message(summary: str, data: dict[str, Any]) -> str:
    return f"{summary}\n\n{json.dumps(data, sort_keys=True, indent=2)}\n"


@dataclass(frozen=True)
class VersionRecord:
    """One recorded version: where its document is and who recorded it."""

    assistant_id: str
    version: int
    commit: str
    path: str
    blob: str
    committed_at: int
    author: str
    recorded_by: str
    recorded_at: int
    tag: str
    reason: str = ""
    ci: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LatestState:
    """What ``refs/assistants/<id>/latest`` says."""

    assistant_id: str
    pointer: str  # the pointer commit
    version: int
    max_version: int
    tag: str
    commit: str
    path: str
    blob: str
    deleted: bool
    moved_at: int
    moved_by: str
    reason: str
    previous: int | None
    ci: dict[str, str] = field(default_factory=dict)


def _sig_text(sig: pygit2.Signature) -> str:
    return f"{sig.name} <{sig.email}>"


def read_version(store: Store, assistant_id: str, number: int) -> VersionRecord | None:
    oid = store.refdb.read(version_ref(assistant_id, number))
    if oid is None:
        return None
    return record_from_tag(store, oid)


def record_from_tag(store: Store, oid: str) -> VersionRecord:
    tag = store.repo.get(oid)
    if not isinstance(tag, pygit2.Tag):
        raise NotFound(f"{oid[:12]} is not a gitassist version tag")
    _, data = split_message(tag.message)
    tagger = tag.tagger
    return VersionRecord(
        assistant_id=data["assistant_id"],
        version=int(data["version"]),
        commit=data["commit"],
        path=data["path"],
        blob=data["blob"],
        committed_at=int(data.get("committed_at", 0)),
        author=data.get("author", ""),
        recorded_by=_sig_text(tagger) if tagger else "",
        recorded_at=tagger.time if tagger else 0,
        tag=oid,
        reason=data.get("reason", ""),
        ci=data.get("ci", {}),
    )


def read_latest(store: Store, assistant_id: str) -> LatestState | None:
    oid = store.refdb.read(latest_ref(assistant_id))
    if oid is None:
        return None
    return latest_from_pointer(store, oid)


def latest_from_pointer(store: Store, oid: str) -> LatestState:
    commit = store.repo.get(oid)
    if not isinstance(commit, pygit2.Commit):
        raise NotFound(f"{oid[:12]} is not a gitassist pointer commit")
    _, data = split_message(commit.message)
    return LatestState(
        assistant_id=data["assistant_id"],
        pointer=oid,
        version=int(data["version"]),
        max_version=int(data.get("max_version", data["version"])),
        tag=data["tag"],
        commit=data["commit"],
        path=data["path"],
        blob=data["blob"],
        deleted=bool(data.get("deleted", False)),
        moved_at=commit.committer.time,
        moved_by=_sig_text(commit.committer),
        reason=data.get("reason", ""),
        previous=data.get("previous"),
        ci=data.get("ci", {}),
    )


def max_version(store: Store, assistant_id: str, latest: LatestState | None = None) -> int:
    """Highest recorded version number (0 if none); robust to a pointer that lags behind."""
    latest = latest if latest is not None else read_latest(store, assistant_id)
    number = latest.max_version if latest is not None else 0
    while store.refdb.read(version_ref(assistant_id, number + 1)) is not None:
        number += 1
    return number


def latest_history(store: Store, assistant_id: str, limit: int | None = None) -> list[LatestState]:
    """Every move of the latest pointer, newest first (the pointer commits' first parents)."""
    oid = store.refdb.read(latest_ref(assistant_id))
    out: list[LatestState] = []
    while oid is not None and (limit is None or len(out) < limit):
        state = latest_from_pointer(store, oid)
        out.append(state)
        commit = store.repo.get(oid)
        parents: list[pygit2.Oid] = (
            list(commit.parent_ids) if isinstance(commit, pygit2.Commit) else []
        )
        oid = str(parents[0]) if parents else None
    return out


# --------------------------------------------------------------------------- writing objects


def make_version_tag(
    store: Store,
    assistant_id: str,
    number: int,
    commit: pygit2.Commit,
    path: str,
    blob: str,
    document: AssistantDocument,
    reason: str,
    ci: dict[str, str],
) -> str:
    data = {
        "assistant_id": assistant_id,
        "version": number,
        "commit": str(commit.id),
        "path": path,
        "blob": blob,
        "graph_id": document.graph_id,
        "committed_at": commit.committer.time,
        "author": _sig_text(commit.author),
        "reason": reason,
        "ci": ci,
    }
    summary = f"gitassist: {document.name} version {number}"
    return write_tag(
        store, commit, f"assistants/{assistant_id}/v{number}", join_message(summary, data)
    )


def write_tag(store: Store, commit: pygit2.Commit, name: str, message: str) -> str:
    """An annotated tag object with no refs/tags/ ref (``create_tag`` would make one)."""
    sig = store.signature()
    offset = sig.offset
    sign = "-" if offset < 0 else "+"
    tz = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    raw = (
        f"object {commit.id}\ntype commit\ntag {name}\n"
        f"tagger {sig.name} <{sig.email}> {sig.time} {tz}\n\n{message}"
    )
    oid = store.repo.odb.write(pygit2.enums.ObjectType.TAG, raw.encode("utf-8"))
    return str(oid)


def make_pointer(
    store: Store,
    assistant_id: str,
    *,
    previous: LatestState | None,
    version: int,
    max_version: int,
    tag: str,
    commit: str,
    path: str,
    blob: str,
    deleted: bool,
    reason: str,
    ci: dict[str, str],
    name: str,
) -> str:
    """A pointer commit for latest: tree of ``commit``, parent the previous pointer."""
    source = store.get_commit(commit)
    data = {
        "assistant_id": assistant_id,
        "version": version,
        "max_version": max_version,
        "previous": previous.version if previous is not None else None,
        "tag": tag,
        "commit": commit,
        "path": path,
        "blob": blob,
        "deleted": deleted,
        "reason": reason,
        "ci": ci,
    }
    if deleted:
        summary = f"gitassist: {name} deleted (last version {version})"
    elif previous is None or previous.deleted:
        summary = f"gitassist: {name} latest -> version {version}"
    else:
        summary = f"gitassist: {name} latest -> version {version} (was {previous.version})"
    sig = store.signature()
    parents = [previous.pointer] if previous is not None else []
    oid = store.repo.create_commit(
        None, sig, sig, join_message(summary, data), source.tree.id, parents
    )
    return str(oid)
