"""Sync: make a LangGraph Server deployment equal to git's latest versions.

The repository is the source of truth. For every assistant with a latest ref, :func:`sync`
makes the server's *active* version hold exactly the content of git's latest version
(graph_id, context, config, metadata, name, description), with the same ``assistant_id``:

- missing on the server: ``create`` it;
- already equal: nothing (no request that writes, so no spurious server version);
- the server holds that exact content in an older version (found through the stamps sync
  writes into metadata): ``set_latest`` to it ("re-pointed");
- otherwise: ``update`` with the whole content.

Everything sync writes carries stamps in its metadata (see :mod:`gitassist.content`), so
each server version can be traced to a git version and commit. After writing, sync reads
every written assistant back and, where the server got it wrong (its ``set_latest`` does not
restore ``context`` or ``graph_id``), corrects it with an update of the exact content and
reports that it did.

The connection lives in :mod:`gitassist.server`, the comparison in :mod:`gitassist.content`,
the read-only report in :mod:`gitassist.drift`, the way back into git in
:mod:`gitassist.adopt`. Nothing here prints; the CLI (:mod:`gitassist.cli.deploy`) renders
the reports.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.content import (
    FieldDiff,
    Stamp,
    diff_fields,
    git_state,
    is_default,
    same_content,
    server_content,
    stamp_of,
)
from gitassist.progress import Progress, noop
from gitassist.server import MAX_PAGE, connect_target, status_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from gitassist.content import Desired, GitState
    from gitassist.server import Remote
    from gitassist.store import Store

CORRECTION_ROUNDS = 2


@dataclass
class Item:
    """What sync did (or, in a dry run, would do) to one assistant."""

    assistant_id: str
    name: str
    action: str  # create | update | re-point | delete | none | skip
    result: str  # created | updated | re-pointed | deleted | unchanged | skipped | failed | planned
    reason: str = ""
    git_version: int | None = None
    server_version: int | None = None
    diff: list[FieldDiff] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyncReport:
    """Per-assistant items and the HTTP cost of one sync."""

    url: str
    dry_run: bool
    prune: bool
    items: list[Item] = field(default_factory=list)
    requests: int = 0
    writes: int = 0
    retries: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.result] = out.get(item.result, 0) + 1
            if item.corrected:
                out["corrected"] = out.get("corrected", 0) + 1
        return out

    @property
    def failed(self) -> list[Item]:
        return [i for i in self.items if i.result == "failed"]

    @property
    def changes(self) -> list[Item]:
        return [i for i in self.items if i.action in ("create", "update", "re-point", "delete")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "dry_run": self.dry_run,
            "prune": self.prune,
            "counts": self.counts(),
            "requests": self.requests,
            "writes": self.writes,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "assistants": [i.to_dict() for i in self.items],
        }


def _find_server_version(
    remote: Remote, desired: Desired, content: dict[str, Any]
) -> dict[str, Any] | None:
    """A server version stamped with git's version that holds exactly its content."""
    matches = [
        row
        for row in remote.versions(desired.assistant_id)
        if (stamp_of(row) or Stamp(-1, "")).version == desired.version
        and same_content(content, server_content(row))
    ]
    return max(matches, key=lambda r: int(r.get("version") or 0)) if matches else None


def _plan_one(
    remote: Remote, desired: Desired, server: dict[str, Any] | None
) -> tuple[Item, int | None]:
    """The action for one assistant, and the server version to re-point to (if any)."""
    name = desired.resolved.document.name
    content = desired.content()
    item = Item(desired.assistant_id, name, "none", "unchanged", git_version=desired.version)
    if server is None:
        item.action, item.reason = "create", "missing on the server"
        return item, None
    item.server_version = server.get("version")
    actual = server_content(server)
    if same_content(content, actual):
        item.reason = "in sync"
        return item, None
    item.diff = diff_fields(content, actual)
    found = _find_server_version(remote, desired, content)
    if found is not None:
        item.action = "re-point"
        item.reason = f"server version {found['version']} holds git version {desired.version}"
        return item, int(found["version"])
    item.action = "update"
    item.reason = _why(server, desired)
    return item, None


def _why(server: dict[str, Any], desired: Desired) -> str:
    stamp = stamp_of(server)
    if stamp is None:
        return "server version has no gitassist stamp"
    if stamp.version != desired.version:
        return f"server runs git version {stamp.version}, git's latest is {desired.version}"
    return "edited on the server since sync wrote it"


def _prune_item(
    assistant: dict[str, Any], git: GitState, graph_ids: set[str], prune: bool
) -> Item | None:
    assistant_id = str(assistant["assistant_id"])
    name = str(assistant.get("name") or "")
    if is_default(assistant, graph_ids):
        return None
    stamp = stamp_of(assistant)
    item = Item(assistant_id, name, "skip", "skipped", server_version=assistant.get("version"))
    deleted = assistant_id in git.deleted
    if stamp is None:
        item.reason = (
            "deleted in git, but the server's version has no gitassist stamp: left alone"
            if deleted
            else "not in git and not written by gitassist (created by hand): "
            "`gitassist adopt` brings it into git"
        )
        return item
    why = "deleted in git" if deleted else "not in git (stamped by gitassist)"
    if not prune:
        item.reason = f"{why}; sync --prune deletes it"
        return item
    item.action, item.reason = "delete", why
    return item


def sync(
    store: Store,
    remote: Remote,
    *,
    prune: bool = False,
    dry_run: bool = False,
    page_size: int = MAX_PAGE,
    progress: Progress | None = None,
) -> SyncReport:
    """Make the server's active assistants equal git's latest versions; report per assistant.

    ``progress`` is told of each assistant compared ("compare"), then of each written ("sync").
    """
    started = time.perf_counter()
    requests0, writes0, retries0 = remote.requests, remote.writes, remote.retried
    report = SyncReport(remote.url, dry_run, prune)
    git = git_state(store)
    graph_ids = set(store.project.graphs)
    on_server = remote.by_id(page_size)
    planned: list[tuple[Item, Desired | None, int | None]] = []
    tell = noop if progress is None else progress
    for compared, (assistant_id, desired) in enumerate(git.desired.items(), 1):
        try:
            item, target = _plan_one(remote, desired, on_server.get(assistant_id))
        except Exception as exc:
            item = Item(assistant_id, desired.resolved.document.name, "update", "failed")
            item.error, target = _describe(exc), None
        planned.append((item, desired, target))
        tell("compare", compared, len(git.desired))
    for assistant_id, assistant in on_server.items():
        if assistant_id not in git.desired:
            prune_item = _prune_item(assistant, git, graph_ids, prune)
            if prune_item is not None:
                planned.append((prune_item, None, None))
    planned += _not_promoted(git, on_server)
    if dry_run:
        for item, _, _ in planned:
            if item.action in ("create", "update", "re-point", "delete"):
                item.result = "planned"
        report.items = [item for item, _, _ in planned]
    else:
        _execute(remote, planned, on_server, page_size, tell)
        report.items = [item for item, _, _ in planned]
    report.items.sort(key=lambda i: (i.name.lower(), i.assistant_id))
    report.requests = remote.requests - requests0
    report.writes = remote.writes - writes0
    report.retries = remote.retried - retries0
    report.seconds = time.perf_counter() - started
    return report


def _not_promoted(
    git: GitState, on_server: dict[str, Any]
) -> list[tuple[Item, Desired | None, int | None]]:
    """Assistants the synced environment does not hold: never created on its deployment."""
    why = f"not promoted to {git.environment}"
    return [
        (Item(assistant_id, name, "skip", "skipped", why), None, None)
        for assistant_id, name in git.not_promoted.items()
        if assistant_id not in on_server
    ]


def _describe(exc: Exception) -> str:
    status = status_of(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"


def _matches(remote: Remote, desired: Desired) -> Callable[[], bool]:
    def check() -> bool:
        found = remote.get(desired.assistant_id)
        return found is not None and same_content(desired.content(), server_content(found))

    return check


def _execute(
    remote: Remote,
    planned: list[tuple[Item, Desired | None, int | None]],
    on_server: dict[str, dict[str, Any]],
    page_size: int,
    tell: Progress = noop,
) -> None:
    written: list[tuple[Item, Desired]] = []
    for done, (item, desired, target) in enumerate(planned, 1):
        tell("sync", done, len(planned))
        try:
            if item.action == "delete":
                remote.delete(item.assistant_id)
                item.result = "deleted"
            elif desired is None or item.action == "none":
                continue
            elif item.action == "create":
                remote.create(desired.payload(None))
                item.result = "created"
            elif item.action == "re-point":
                assert target is not None
                remote.set_latest(item.assistant_id, target, done=_matches(remote, desired))
                item.result = "re-pointed"
            elif item.action == "update":
                server = on_server.get(item.assistant_id)
                remote.update(desired.payload(server), done=_matches(remote, desired))
                item.result = "updated"
            if desired is not None and item.result != "failed":
                written.append((item, desired))
        except Exception as exc:
            item.result, item.error = "failed", _describe(exc)
    _verify_and_correct(remote, written, len(on_server), page_size)


def _read_back(
    remote: Remote, ids: list[str], server_size: int, page_size: int
) -> dict[str, dict[str, Any] | None]:
    """The written assistants as the server now has them: one GET each, or one listing."""
    pages = math.ceil((server_size + len(ids)) / max(1, min(page_size, MAX_PAGE)))
    if len(ids) > pages:
        listed = {str(a["assistant_id"]): a for a in remote.list_assistants(page_size)}
        return {i: listed.get(i) for i in ids}
    return {i: remote.get(i) for i in ids}


def _verify_and_correct(
    remote: Remote, written: list[tuple[Item, Desired]], server_size: int, page_size: int
) -> None:
    """Read every written assistant back; update with the exact content where it is wrong."""
    pending = written
    for round_ in range(CORRECTION_ROUNDS + 1):
        if not pending:
            return
        try:
            found = _read_back(remote, [d.assistant_id for _, d in pending], server_size, page_size)
        except Exception as exc:
            for item, _ in pending:
                item.result, item.error = "failed", f"could not read back: {_describe(exc)}"
            return
        wrong: list[tuple[Item, Desired]] = []
        for item, desired in pending:
            server = found.get(desired.assistant_id)
            if server is not None:
                item.server_version = server.get("version")
            if server is not None and same_content(desired.content(), server_content(server)):
                continue
            if round_ == CORRECTION_ROUNDS:
                item.result = "failed"
                item.error = "the server still differs from git after correcting it"
                continue
            bad = (
                ["missing"]
                if server is None
                else [d.path for d in diff_fields(desired.content(), server_content(server))]
            )
            item.corrected.extend(p for p in bad if p not in item.corrected)
            try:
                if server is None:
                    remote.create(desired.payload(None))
                else:
                    remote.update(desired.payload(server), done=_matches(remote, desired))
            except Exception as exc:
                item.result, item.error = "failed", f"correction failed: {_describe(exc)}"
                continue
            wrong.append((item, desired))
        pending = wrong


def deployment_plan(store: Store, url: str, headers: Mapping[str, str] | None = None) -> SyncReport:
    """What ``sync`` would do to ``url`` (a URL or a deployment name): a dry run."""
    with connect_target(store, url, headers) as remote:
        return sync(store, remote, dry_run=True)
