"""Writing the objects of gitassist's version refs: the annotated tag of a numbered version and
the pointer commit of ``latest`` (or an environment's pointer); see :mod:`gitassist.versions`
for their layout and for reading them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygit2

from gitassist.versions import join_message, sig_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.documents import AssistantDocument
    from gitassist.store import Store
    from gitassist.versions import LatestState


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
    write: Callable[[bytes], str] | None = None,
) -> str:
    data = {
        "assistant_id": assistant_id,
        "version": number,
        "commit": str(commit.id),
        "path": path,
        "blob": blob,
        "graph_id": document.graph_id,
        "committed_at": commit.committer.time,
        "author": sig_text(commit.author),
        "reason": reason,
        "ci": ci,
    }
    summary = f"gitassist: {document.name} version {number}"
    return write_tag(
        store, commit, f"assistants/{assistant_id}/v{number}", join_message(summary, data), write
    )


def write_tag(
    store: Store,
    commit: pygit2.Commit,
    name: str,
    message: str,
    write: Callable[[bytes], str] | None = None,
) -> str:
    """An annotated tag object with no refs/tags/ ref (``create_tag`` would make one);
    ``write`` stores the raw tag instead of the object database (e.g. into a pack)."""
    sig = store.signature()
    offset = sig.offset
    sign = "-" if offset < 0 else "+"
    tz = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    raw = (
        f"object {commit.id}\ntype commit\ntag {name}\n"
        f"tagger {sig.name} <{sig.email}> {sig.time} {tz}\n\n{message}"
    )
    if write is not None:
        return write(raw.encode("utf-8"))
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
    environment: str | None = None,
) -> str:
    """A pointer commit for latest (or ``environment``'s pointer): tree of ``commit``, parent
    the previous pointer."""
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
    label = "latest"
    if environment is not None:
        data["environment"] = label = environment
    if deleted:
        summary = f"gitassist: {name} deleted (last version {version})"
        if environment is not None:
            summary = f"gitassist: {name} deleted in {environment} (last version {version})"
    elif previous is None or previous.deleted:
        summary = f"gitassist: {name} {label} -> version {version}"
    else:
        summary = f"gitassist: {name} {label} -> version {version} (was {previous.version})"
    sig = store.signature()
    parents = [previous.pointer] if previous is not None else []
    oid = store.repo.create_commit(
        None, sig, sig, join_message(summary, data), source.tree.id, parents
    )
    return str(oid)
