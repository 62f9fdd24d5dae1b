"""Drift: every way a LangGraph Server's active assistants differ from git's latest versions.

Each difference is classified (see docs/sync.md): ``missing`` (in git, not on the server),
``edited`` (changed on the server after sync wrote it), ``unstamped`` (not written by
gitassist), ``outdated`` (the server runs an older git version), ``unmanaged`` (on the server
only), ``deleted_in_git`` and ``orphaned`` (stamped by gitassist, unknown to this git).
Nothing is written; ``gitassist sync`` fixes what drift reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.content import (
    FieldDiff,
    diff_fields,
    git_content,
    git_state,
    is_default,
    same_content,
    server_content,
    stamp_of,
)
from gitassist.errors import GitassistError
from gitassist.server import MAX_PAGE

if TYPE_CHECKING:
    from gitassist.content import Desired
    from gitassist.server import Remote
    from gitassist.store import Store


@dataclass
class DriftItem:
    """One assistant whose server state differs from git."""

    assistant_id: str
    name: str
    kind: str  # missing | edited | unstamped | outdated | unmanaged | deleted_in_git | orphaned
    detail: str
    git_version: int | None = None
    server_version: int | None = None
    stamp: int | None = None
    diff: list[FieldDiff] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    url: str
    items: list[DriftItem] = field(default_factory=list)
    in_sync: int = 0
    requests: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.items)

    def to_dict(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for item in self.items:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        return {
            "url": self.url,
            "drift": self.drifted,
            "in_sync": self.in_sync,
            "kinds": kinds,
            "requests": self.requests,
            "assistants": [i.to_dict() for i in self.items],
        }


def _drift_one(store: Store, desired: Desired, server: dict[str, Any] | None) -> DriftItem | None:
    name = desired.resolved.document.name
    item = DriftItem(desired.assistant_id, name, "missing", "", git_version=desired.version)
    if server is None:
        item.detail = "in git but not on the server (deleted there, or never synced)"
        return item
    content = desired.content()
    actual = server_content(server)
    if same_content(content, actual):
        return None
    stamp = stamp_of(server)
    item.server_version = server.get("version")
    item.stamp = stamp.version if stamp else None
    item.diff = diff_fields(content, actual)
    if stamp is None:
        item.kind = "unstamped"
        item.detail = (
            "the server's version was not written by gitassist (created or edited by hand)"
        )
        return item
    stamped = _git_version_content(store, desired.assistant_id, stamp.version)
    if stamped is not None and same_content(stamped, actual):
        item.kind = "outdated"
        item.detail = (
            f"the server runs git version {stamp.version}; git's latest is {desired.version}"
        )
        return item
    item.kind = "edited"
    item.detail = (
        f"edited on the server (Studio or API) after sync wrote git version {stamp.version}"
    )
    return item


def drift(store: Store, remote: Remote, *, page_size: int = MAX_PAGE) -> DriftReport:
    """Every difference between the server's active assistants and git's latest."""
    requests0 = remote.requests
    git = git_state(store)
    graph_ids = set(store.project.graphs)
    on_server = remote.by_id(page_size)
    report = DriftReport(remote.url)
    for assistant_id, desired in git.desired.items():
        item = _drift_one(store, desired, on_server.get(assistant_id))
        if item is None:
            report.in_sync += 1
        else:
            report.items.append(item)
    for assistant_id, assistant in on_server.items():
        if assistant_id in git.desired or is_default(assistant, graph_ids):
            continue
        stamp = stamp_of(assistant)
        item = DriftItem(
            assistant_id,
            str(assistant.get("name") or ""),
            "unmanaged",
            "on the server only, not written by gitassist (created by hand)",
            server_version=assistant.get("version"),
            stamp=stamp.version if stamp else None,
        )
        if assistant_id in git.deleted:
            item.kind, item.detail = "deleted_in_git", "deleted in git, still on the server"
        elif stamp is not None:
            item.kind, item.detail = "orphaned", "written by gitassist but unknown to this git"
        report.items.append(item)
    report.items.sort(key=lambda i: (i.kind, i.name.lower(), i.assistant_id))
    report.requests = remote.requests - requests0
    return report


def _git_version_content(store: Store, assistant_id: str, number: int) -> dict[str, Any] | None:
    from gitassist.store import Entry
    from gitassist.versions import read_version

    record = read_version(store, assistant_id, number)
    if record is None:
        return None
    try:
        return git_content(store.document(Entry(record.path, record.blob)))
    except GitassistError:
        return None
