"""Review assistant changes between two revisions: what a pull request does, field by field.

:func:`review` compares the assistant files of two commits (by default the merge-base of the
tracked branch and HEAD, and HEAD) and returns a :class:`Review`: per assistant whether it was
added, changed, deleted, renamed (same id, new file, same content) or only reformatted; a
field-level diff of name, graph, description, context, config and metadata, with a unified diff
for long or multi-line strings; the version number each change will become once merged and
applied; and the validation result at HEAD. Changed context schemas are listed with the
assistants of that graph that stop validating. Secret-looking values are redacted everywhere.

Nothing here imports graph code: schemas are the committed JSON files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from gitassist.document_checks import assistant_problems, context_problems
from gitassist.documents import check_document
from gitassist.errors import GitassistError, NotFound
from gitassist.field_diff import FieldChange, diff_documents, text_diff
from gitassist.problems import Problem
from gitassist.redact import redact_text
from gitassist.schemas import read_schemas, schema_path, schema_text
from gitassist.validation import assistant_files, duplicate_id_problems, quick_ids

if TYPE_CHECKING:
    from pygit2 import Commit

    from gitassist.documents import AssistantDocument
    from gitassist.problems import Problem
    from gitassist.project import Project
    from gitassist.schemas import SchemaSet
    from gitassist.store import Entry, Store

ChangeKind = Literal["added", "changed", "deleted", "renamed", "reformatted", "unchanged"]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class AssistantChange:
    """What happened to one assistant between the two revisions."""

    kind: ChangeKind
    assistant_id: str | None
    name: str
    graph_id: str | None
    old_path: str | None
    new_path: str | None
    fields: tuple[FieldChange, ...] = ()
    version: int | None = None  # the version this becomes once merged and applied
    problems: tuple[Problem, ...] = ()
    recorded: bool = False  # ``version`` is recorded already (a write on the tracked branch)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "assistant_id": self.assistant_id,
            "name": self.name,
            "graph_id": self.graph_id,
            "old_path": self.old_path,
            "new_path": self.new_path,
            "version": self.version,
            "recorded": self.recorded,
            "valid": not self.errors,
            "fields": [f.to_dict() for f in self.fields],
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class Affected:
    """An assistant that validated under the old context schema and does not under the new."""

    assistant_id: str
    name: str
    path: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class SchemaChange:
    """A committed context schema that changed, and the assistants of its graph it breaks."""

    graph_id: str
    path: str
    kind: Literal["added", "changed", "deleted"]
    text_diff: str
    assistants: int  # assistants of this graph at HEAD
    broken: tuple[Affected, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["broken"] = [
            {
                "assistant_id": a.assistant_id,
                "name": a.name,
                "path": a.path,
                "problems": [p.to_dict() for p in a.problems],
            }
            for a in self.broken
        ]
        return data


@dataclass(frozen=True)
class Review:
    """Every assistant and schema change between ``base`` and ``head``."""

    base: str
    head: str
    assistants: tuple[AssistantChange, ...]
    schemas: tuple[SchemaChange, ...] = ()
    problems: tuple[Problem, ...] = ()  # not tied to one assistant (e.g. a broken schema file)
    notes: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.assistants or self.schemas)

    @property
    def valid(self) -> bool:
        return not (
            any(c.errors for c in self.assistants)
            or any(s.broken for s in self.schemas)
            or any(p.severity == "error" for p in self.problems)
        )

    def counts(self) -> dict[str, int]:
        return dict(Counter(c.kind for c in self.assistants))

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "head": self.head,
            "changes": self.has_changes,
            "valid": self.valid,
            "counts": self.counts(),
            "assistants": [c.to_dict() for c in self.assistants],
            "schemas": [s.to_dict() for s in self.schemas],
            "problems": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- the review


@dataclass
class _Side:
    """One revision: its commit, project, schemas and the parsed changed files."""

    commit: Commit
    project: Project
    docs: dict[str, tuple[Entry, AssistantDocument]]
    broken: list[Entry]


def review(store: Store, base: str | None = None, head: str = "HEAD") -> Review:
    """Compare the assistants at ``base`` (default: merge-base of the tracked branch and
    ``head``) with those at ``head``."""
    from gitassist.index import changed_entries

    head_commit = store.commit(head)
    base_commit = store.commit(base) if base else default_base(store, head_commit)
    removed, added = changed_entries(store, base_commit.tree, head_commit.tree)
    old = _side(store, base_commit, removed)
    new = _side(store, head_commit, added)
    rev = str(head_commit.id)[:12]
    schemas, schema_problems = read_schemas(store, new.project, head_commit.tree, rev=rev)
    changes = _pair(store, old, new, rev, schemas)
    numbered, notes = _number(store, changes, base_commit, head_commit)
    schema_changes = _schema_changes(store, old, new)
    return Review(
        str(base_commit.id),
        str(head_commit.id),
        tuple(numbered),
        tuple(schema_changes),
        tuple(schema_problems),
        tuple(notes),
    )


def default_base(store: Store, head: Commit) -> Commit:
    """The merge-base of the tracked branch (local, else ``origin/``) and ``head``."""
    branch = store.tracked_branch()
    for name in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        ref = store.repo.references.get(name)
        if ref is None:
            continue
        base = store.repo.merge_base(ref.target, head.id)
        if base is not None:
            return store.get_commit(base)
    raise NotFound(
        f"cannot find the tracked branch {branch!r} to compare with",
        hint="name the base revision: gitassist diff BASE [HEAD]",
    )


def _side(store: Store, commit: Commit, entries: list[Entry]) -> _Side:
    docs: dict[str, tuple[Entry, AssistantDocument]] = {}
    broken: list[Entry] = []
    for entry in entries:
        document = store.blob_info(entry).document
        if document is None:
            broken.append(entry)
        else:
            docs.setdefault(document.assistant_id, (entry, document))
    return _Side(commit, store.project_at(commit), docs, broken)


def _pair(
    store: Store, old: _Side, new: _Side, rev: str, schemas: SchemaSet
) -> list[AssistantChange]:
    tree = new.commit.tree
    held_by = quick_ids(store, tree, assistant_files(store, new.project, tree))
    changes = []
    for assistant_id, (entry, doc) in new.docs.items():
        before = old.docs.get(assistant_id)
        problems = assistant_problems(
            doc, store.blob_text(entry.blob), entry.path, new.project, schemas, rev=rev
        )
        others = held_by.get(assistant_id, [])
        problems += duplicate_id_problems(entry.path, store.blob_text(entry.blob), doc, others, rev)
        changes.append(_change(before, entry, doc, tuple(problems)))
    for entry in new.broken:
        changes.append(_unparsed(store, old, entry, new.project, schemas, rev))
    gone = [(e, d) for i, (e, d) in old.docs.items() if i not in new.docs]
    for entry, doc in gone:
        if not any(
            c.new_path == entry.path and c.assistant_id == doc.assistant_id for c in changes
        ):
            changes.append(
                AssistantChange(
                    "deleted", doc.assistant_id, doc.name, doc.graph_id, entry.path, None
                )
            )
    return sorted(changes, key=lambda c: (c.path, c.kind))


def _change(
    before: tuple[Entry, AssistantDocument] | None,
    entry: Entry,
    doc: AssistantDocument,
    problems: tuple[Problem, ...],
) -> AssistantChange:
    if before is None:
        return AssistantChange(
            "added",
            doc.assistant_id,
            doc.name,
            doc.graph_id,
            None,
            entry.path,
            tuple(diff_documents(None, doc)),
            problems=problems,
        )
    old_entry, old_doc = before
    fields = tuple(diff_documents(old_doc, doc))
    if fields:
        kind: ChangeKind = "changed"
    else:
        kind = "renamed" if old_entry.path != entry.path else "reformatted"
    return AssistantChange(
        kind,
        doc.assistant_id,
        doc.name,
        doc.graph_id,
        old_entry.path,
        entry.path,
        fields,
        problems=problems,
    )


def _unparsed(
    store: Store, old: _Side, entry: Entry, project: Project, schemas: SchemaSet, rev: str
) -> AssistantChange:
    """A file at HEAD that is not a valid document: shown with its problems."""
    _, problems = check_document(store.document_text(entry.blob), entry.path, rev)
    before = next(((e, d) for e, d in old.docs.values() if e.path == entry.path), None)
    if before is None:
        return AssistantChange(
            "added", None, entry.path, None, None, entry.path, problems=tuple(problems)
        )
    doc = before[1]
    return AssistantChange(
        "changed",
        doc.assistant_id,
        doc.name,
        doc.graph_id,
        entry.path,
        entry.path,
        problems=tuple(problems),
    )


# --------------------------------------------------------------------------- version numbers


def _number(
    store: Store, changes: list[AssistantChange], base: Commit, head: Commit
) -> tuple[list[AssistantChange], list[str]]:
    """Set the version each added/changed assistant becomes: its highest recorded version,
    plus the versions still pending on the tracked branch, plus one."""
    from dataclasses import replace

    from gitassist.versions import max_version, recorded_between

    pending, notes = _pending(store, base, head)
    out = []
    for change in changes:
        numbered = change
        if change.kind in ("added", "changed") and change.assistant_id and not change.errors:
            top = max_version(store, change.assistant_id)
            if recorded_between(store, change.assistant_id, top, change.new_path, base, head):
                numbered = replace(change, version=top, recorded=True)
            else:
                numbered = replace(change, version=top + pending.get(change.assistant_id, 0) + 1)
        out.append(numbered)
    return out, notes


def _pending(store: Store, base: Commit, head: Commit) -> tuple[Counter[str], list[str]]:
    """Versions the tracked branch will record before this change (not applied yet)."""
    from gitassist.applied import read_applied
    from gitassist.plan import make_plan

    branch = store.tracked_branch()
    ref = store.repo.references.get(f"refs/heads/{branch}")
    tip = store.get_commit(ref.target) if ref is not None else base
    if _reaches(store, tip.id, head.id):
        # the change is on the tracked branch already: its own commits are not "before" it;
        # what is pending is what the branch records up to where the change starts
        start = store.repo.merge_base(tip.id, base.id)
        applied = read_applied(store).commit
        if start is None or (applied is not None and _reaches(store, applied, start)):
            return Counter(), []
        tip = store.get_commit(start)
    try:
        plan = make_plan(store, head=tip, branch=branch)
    except GitassistError as exc:
        return Counter(), [f"version numbers ignore unapplied changes on {branch}: {exc.message}"]
    return Counter(v.assistant_id for v in plan.versions), []


def _reaches(store: Store, descendant: Any, ancestor: Any) -> bool:
    """Whether ``ancestor`` is ``descendant`` or in its history."""
    if str(descendant) == str(ancestor):
        return True
    if store.repo.get(str(descendant)) is None or store.repo.get(str(ancestor)) is None:
        return False  # an id this clone does not have (a shallow clone)
    return bool(store.repo.descendant_of(descendant, ancestor))


# --------------------------------------------------------------------------- schemas


def _schema_changes(store: Store, old: _Side, new: _Side) -> list[SchemaChange]:
    graphs = [*new.project.graphs, *(g for g in old.project.graphs if g not in new.project.graphs)]
    out = []
    for graph_id in graphs:
        path = schema_path(new.project, graph_id)
        before = schema_text(store, old.project, old.commit.tree, graph_id)
        after = schema_text(store, new.project, new.commit.tree, graph_id)
        if before == after:
            continue
        kind: Literal["added", "changed", "deleted"] = (
            "added" if before is None else "deleted" if after is None else "changed"
        )
        count, broken = _broken(store, old, new, graph_id)
        diff = redact_text(text_diff(before or "", after or ""))
        out.append(SchemaChange(graph_id, path, kind, diff, count, tuple(broken)))
    return out


def _broken(store: Store, old: _Side, new: _Side, graph_id: str) -> tuple[int, list[Affected]]:
    """Assistants of ``graph_id`` at HEAD: how many, and which stop validating."""
    from gitassist.applied import index_at
    from gitassist.store import Entry

    old_schemas, _ = read_schemas(store, old.project, old.commit.tree)
    new_schemas, _ = read_schemas(store, new.project, new.commit.tree)
    rev = str(new.commit.id)[:12]
    count, broken = 0, []
    for item in index_at(store, new.commit.tree).values():
        if item.graph_id != graph_id:
            continue
        count += 1
        entry = Entry(item.path, item.blob)
        doc = store.blob_info(entry).document
        if doc is None:
            continue
        text = store.blob_text(item.blob)
        after = _errors(doc, text, item.path, new_schemas, new.project, rev)
        if after and not _errors(doc, text, item.path, old_schemas, old.project, rev):
            broken.append(Affected(doc.assistant_id, doc.name, item.path, tuple(after)))
    return count, broken


def _errors(
    doc: AssistantDocument, text: str, path: str, schemas: SchemaSet, project: Project, rev: str
) -> list[Problem]:
    found = context_problems(
        doc, text, path, schemas, rev=rev, unknown_keys=project.settings.unknown_context_keys
    )
    return [p for p in found if p.severity == "error"]


# --------------------------------------------------------------------------- versions diff


def compare_versions(store: Store, target: str, a: int, b: int) -> AssistantChange:
    """Version ``a`` against version ``b`` of one assistant, as :func:`review` shows it (both
    are recorded already, so ``version`` is None)."""
    from gitassist.naming import resolve_id
    from gitassist.resolve import get_version

    assistant_id = resolve_id(store, target)
    old, new = get_version(store, assistant_id, a), get_version(store, assistant_id, b)
    fields = tuple(diff_documents(old.document, new.document))
    kind: ChangeKind = "changed" if fields else ("renamed" if old.path != new.path else "unchanged")
    doc = new.document
    return AssistantChange(kind, assistant_id, doc.name, doc.graph_id, old.path, new.path, fields)


__all__ = [
    "Affected",
    "AssistantChange",
    "FieldChange",
    "Review",
    "SchemaChange",
    "compare_versions",
    "default_base",
    "diff_documents",
    "review",
    "text_diff",
]
