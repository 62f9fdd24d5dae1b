"""Adopt: write the assistants a LangGraph Server has and git does not into the repository.

Every server assistant git does not know becomes a document under the assistants directory,
all in one commit; on the tracked branch that commit is applied at once (versions and latest
refs recorded), like ``create``. Graphs' default assistants and assistants git deleted are
left out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.content import git_state, is_default, server_content
from gitassist.server import MAX_PAGE

if TYPE_CHECKING:
    from gitassist.content import GitState
    from gitassist.documents import AssistantDocument
    from gitassist.project import Project
    from gitassist.schemas import SchemaSet
    from gitassist.server import Remote
    from gitassist.store import Store


@dataclass
class AdoptItem:
    assistant_id: str
    name: str
    result: str  # adopted | skipped | failed
    path: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AdoptReport:
    url: str
    items: list[AdoptItem] = field(default_factory=list)
    commit: str | None = None
    branch: str | None = None
    recorded: bool = False
    requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "commit": self.commit,
            "branch": self.branch,
            "recorded": self.recorded,
            "requests": self.requests,
            "assistants": [i.to_dict() for i in self.items],
        }


def adopted_document(assistant: dict[str, Any]) -> AssistantDocument:
    """The server's assistant as a git document (stamps, nulls and mirrors dropped)."""
    from gitassist.documents import AssistantDocument, RunConfig

    content = server_content(assistant)
    config = {k: v for k, v in content["config"].items() if k != "configurable"}
    return AssistantDocument(
        assistant_id=str(assistant["assistant_id"]),
        graph_id=content["graph_id"],
        name=content["name"] or "Untitled",
        description=content["description"],
        context=content["context"],
        config=RunConfig.model_validate(config),
        metadata=content["metadata"],
    )


def adopt(
    store: Store,
    remote: Remote,
    *,
    message: str | None = None,
    page_size: int = MAX_PAGE,
    verify: bool = True,
) -> AdoptReport:
    """Write every server assistant git does not know into the repository, in one commit.

    Graphs' default assistants and assistants git deleted are skipped. On the tracked branch
    the commit is applied at once (versions and latest refs recorded), like ``create``.
    """
    from gitassist.applied import index_at
    from gitassist.schemas import load_schemas
    from gitassist.write_commit import commit_documents, writable_branch

    requests0 = remote.requests
    on_server = remote.by_id(page_size)
    report = AdoptReport(remote.url)
    graph_ids = set(store.project.graphs)
    git = git_state(store)
    with store.refdb.lock():
        branch, parent = writable_branch(store)
        tree = parent.tree if parent is not None else None
        in_tree = index_at(store, tree) if tree is not None else {}
        taken = set(store.entries(tree))
        project = store.project_at(parent) if parent is not None else store.project
        schemas = load_schemas(store, project, tree)
        changes: dict[str, str | None] = {}
        for assistant in sorted(
            on_server.values(), key=lambda a: (str(a.get("name")), a["assistant_id"])
        ):
            item = _adopt_one(store, assistant, git, graph_ids, set(in_tree), taken)
            if item is None:
                continue
            report.items.append(item)
            if item.result == "adopted" and item.path is not None:
                changes[item.path] = _adopt_text(project, assistant, item, schemas)
        changes = {p: t for p, t in changes.items() if t is not None}
        for item in report.items:
            if item.result == "adopted" and item.path not in changes:
                item.result = "failed"
        if not changes:
            report.requests = remote.requests - requests0
            return report
        msg = message or f"Adopt {len(changes)} assistant(s) from {remote.url}"
        commit, report.recorded = commit_documents(
            store, branch, parent, changes, msg, reason="adopt", verify=verify
        )
        report.commit, report.branch = str(commit.id), branch
    report.requests = remote.requests - requests0
    return report


def _adopt_one(
    store: Store,
    assistant: dict[str, Any],
    git: GitState,
    graph_ids: set[str],
    in_tree: set[str],
    taken: set[str],
) -> AdoptItem | None:
    assistant_id = str(assistant["assistant_id"])
    name = str(assistant.get("name") or "Untitled")
    if is_default(assistant, graph_ids) or assistant_id in git.desired or assistant_id in in_tree:
        return None
    item = AdoptItem(assistant_id, name, "skipped")
    if assistant_id in git.deleted:
        item.reason = "deleted in git: left out"
        return item
    if assistant.get("graph_id") not in graph_ids:
        item.result = "failed"
        item.reason = f"graph {assistant.get('graph_id')!r} is not in langgraph.json"
        return item
    from gitassist.write_commit import new_path

    item.result, item.path = "adopted", new_path(store, name, None, taken)
    return item


def _adopt_text(
    project: Project, assistant: dict[str, Any], item: AdoptItem, schemas: SchemaSet
) -> str | None:
    from gitassist.document_checks import document_problems
    from gitassist.documents import render_new

    try:
        doc = adopted_document(assistant)
    except Exception as exc:
        item.reason = f"cannot be written as a document: {exc}"
        return None
    from gitassist.schemas import document_schema_ref

    assert item.path is not None
    text = render_new(doc, schema_ref=document_schema_ref(project, item.path))
    _, problems = document_problems(text, item.path, project, schemas)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        item.reason = "invalid: " + "; ".join(f"{p.json_path}: {p.message}" for p in errors[:3])
        return None
    item.reason = f"server version {assistant.get('version')}"
    return text
