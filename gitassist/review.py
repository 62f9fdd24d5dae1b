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

import difflib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from gitassist.documents import FIELD_ORDER, check_document
from gitassist.errors import GitassistError, NotFound
from gitassist.problems import Problem, json_path
from gitassist.validation import (
    REDACTED,
    assistant_files,
    assistant_problems,
    context_problems,
    quick_ids,
    read_schemas,
    redact,
    redact_text,
    schema_path,
)

if TYPE_CHECKING:
    from pygit2 import Commit

    from gitassist.documents import AssistantDocument
    from gitassist.project import Project
    from gitassist.store import Entry, Store
    from gitassist.validation import SchemaSet

ChangeKind = Literal["added", "changed", "deleted", "renamed", "reformatted", "unchanged"]
FieldKind = Literal["added", "removed", "changed"]
LONG_TEXT = 80  # strings longer than this (or multi-line) get a unified diff
MARKDOWN_LIMIT = 65_536  # GitHub's limit on a comment body
_MAX_DIFF_LINES = 60
_MAX_FIELDS = 40
_MAX_BROKEN = 20
_VALUE_WIDTH = 100


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class FieldChange:
    """One changed value; ``path`` is a JSON path (``$.context.model_name``)."""

    path: str
    kind: FieldKind
    old: Any = None
    new: Any = None
    text_diff: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


# --------------------------------------------------------------------------- field diffs


def diff_documents(
    old: AssistantDocument | None, new: AssistantDocument | None
) -> list[FieldChange]:
    """Field-level changes from ``old`` to ``new`` (either may be None), secrets redacted."""
    before = _fields(old)
    after = _fields(new)
    return list(_diff(before, after, ()))


def _fields(document: AssistantDocument | None) -> dict[str, Any]:
    if document is None:
        return {}
    data = document.canonical()
    data.pop("assistant_id", None)
    return {k: data[k] for k in FIELD_ORDER if k in data}


def _diff(old: Any, new: Any, parts: tuple[str | int, ...]) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                yield from _one_sided(old[key], (*parts, key), "removed")
            elif key not in old:
                yield from _one_sided(new[key], (*parts, key), "added")
            else:
                yield from _diff(old[key], new[key], (*parts, key))
    elif old != new:
        yield _field(parts, "changed", old, new)


def _one_sided(value: Any, parts: tuple[str | int, ...], kind: FieldKind) -> Any:
    if value is None:
        return
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _one_sided(item, (*parts, key), kind)
        return
    if isinstance(value, dict):
        return
    yield _field(
        parts, kind, value if kind == "removed" else None, value if kind == "added" else None
    )


def _field(parts: tuple[str | int, ...], kind: FieldKind, old: Any, new: Any) -> FieldChange:
    key = next((str(p) for p in reversed(parts) if isinstance(p, str)), "")
    old, new = redact(old, key), redact(new, key)
    text = ""
    if isinstance(old, str) and isinstance(new, str) and _is_long(old, new):
        text = text_diff(old, new, json_path(parts))
    return FieldChange(json_path(parts), kind, old, new, text)


def _is_long(*values: str) -> bool:
    return any(len(v) > LONG_TEXT or "\n" in v for v in values) and REDACTED not in values


def text_diff(old: str, new: str, label: str = "") -> str:
    """A unified diff of two texts (no file header), for long strings like system prompts."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2)
    body = [line for line in lines if not line.startswith(("---", "+++"))]
    return "\n".join(body)


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
    numbered, notes = _number(store, changes, base_commit)
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
        problems += _duplicate(held_by, assistant_id, entry, rev)
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


def _duplicate(
    held_by: dict[str, list[str]], assistant_id: str, entry: Entry, rev: str
) -> list[Problem]:
    others = sorted(set(held_by.get(assistant_id, [])) - {entry.path})
    if not others:
        return []
    return [
        Problem(
            entry.path,
            f"assistant_id {assistant_id} is also used by {', '.join(others)}",
            "$.assistant_id",
            None,
            None,
            rev,
            "duplicate_id",
        )
    ]


# --------------------------------------------------------------------------- version numbers


def _number(
    store: Store, changes: list[AssistantChange], base: Commit
) -> tuple[list[AssistantChange], list[str]]:
    """Set the version each added/changed assistant becomes: its highest recorded version,
    plus the versions still pending on the tracked branch, plus one."""
    from dataclasses import replace

    from gitassist.versions import max_version

    pending, notes = _pending(store, base)
    out = []
    for change in changes:
        numbered = change
        if change.kind in ("added", "changed") and change.assistant_id and not change.errors:
            top = max_version(store, change.assistant_id)
            numbered = replace(change, version=top + pending.get(change.assistant_id, 0) + 1)
        out.append(numbered)
    return out, notes


def _pending(store: Store, base: Commit) -> tuple[Counter[str], list[str]]:
    """Versions the tracked branch will record before this change (not applied yet)."""
    from gitassist.plan import make_plan

    branch = store.tracked_branch()
    ref = store.repo.references.get(f"refs/heads/{branch}")
    tip = store.get_commit(ref.target) if ref is not None else base
    try:
        plan = make_plan(store, head=tip, branch=branch)
    except GitassistError as exc:
        return Counter(), [f"version numbers ignore unapplied changes on {branch}: {exc.message}"]
    return Counter(v.assistant_id for v in plan.versions), []


# --------------------------------------------------------------------------- schemas


def _schema_changes(store: Store, old: _Side, new: _Side) -> list[SchemaChange]:
    graphs = [*new.project.graphs, *(g for g in old.project.graphs if g not in new.project.graphs)]
    out = []
    for graph_id in graphs:
        path = schema_path(new.project, graph_id)
        before = store.read_path(old.commit.tree, schema_path(old.project, graph_id))
        after = store.read_path(new.commit.tree, path)
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
    from gitassist.plan import index_at
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
    from gitassist.assistants import find_id, get_version, split_target

    assistant_id = find_id(store, split_target(target)[0])
    old, new = get_version(store, assistant_id, a), get_version(store, assistant_id, b)
    fields = tuple(diff_documents(old.document, new.document))
    kind: ChangeKind = "changed" if fields else ("renamed" if old.path != new.path else "unchanged")
    doc = new.document
    return AssistantChange(kind, assistant_id, doc.name, doc.graph_id, old.path, new.path, fields)


# --------------------------------------------------------------------------- rendering


def _value(value: Any) -> str:
    text = (
        value
        if isinstance(value, str) and value == REDACTED
        else json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _short_path(path: str) -> str:
    return path.removeprefix("$.")


def _headline(change: AssistantChange) -> str:
    what = {
        "added": "added",
        "changed": "changed",
        "deleted": "deleted",
        "renamed": f"renamed from {change.old_path} (same content: no new version)",
        "reformatted": "reformatted (same content: no new version)",
        "unchanged": "unchanged",
    }[change.kind]
    if change.kind == "changed" and change.old_path and change.old_path != change.new_path:
        what += f" (moved from {change.old_path})"
    if change.version is not None:
        what += f", becomes version {change.version}"
    if change.kind == "deleted":
        what += " (marked deleted once merged and applied with --prune)"
    return what


def _field_line(change: FieldChange) -> str:
    name = _short_path(change.path)
    if change.text_diff:
        return f"{name}: changed (text diff below)"
    if change.kind == "added":
        return f"{name}: + {_value(change.new)}"
    if change.kind == "removed":
        return f"{name}: - {_value(change.old)}"
    return f"{name}: {_value(change.old)} → {_value(change.new)}"


def _problem_line(problem: Problem) -> str:
    path = "" if problem.json_path == "$" else f" [{problem.json_path}]"
    return f"{problem.severity} {problem.where()}: {problem.message}{path}"


def change_text(change: AssistantChange) -> str:
    """A plain-text block for one assistant change."""
    mark = {"added": "+", "deleted": "-", "renamed": ">", "changed": "~"}.get(change.kind, "=")
    ident = f" ({change.assistant_id})" if change.assistant_id else ""
    lines = [f"{mark} {change.name}{ident}  {change.path}", f"    {_headline(change)}"]
    for field_change in change.fields:
        lines.append(f"    {_field_line(field_change)}")
        lines.extend(f"      {line}" for line in field_change.text_diff.splitlines())
    lines.extend(f"    {_problem_line(p)}" for p in change.problems)
    return "\n".join(lines)


def render_text(result: Review) -> str:
    """The review for a terminal."""
    lines = [f"Assistant changes {result.base[:12]}..{result.head[:12]}: {_summary(result)}"]
    for change in result.assistants:
        lines += ["", change_text(change)]
    for schema in result.schemas:
        lines += ["", f"* context schema {schema.path} {schema.kind}: {_broken_summary(schema)}"]
        lines.extend(f"    {line}" for line in schema.text_diff.splitlines())
        for item in schema.broken:
            lines.append(f"    stops validating: {item.name} ({item.path})")
            lines.extend(f"      {_problem_line(p)}" for p in item.problems)
    lines.extend(["", *(_problem_line(p) for p in result.problems)] if result.problems else [])
    lines.extend(f"note: {n}" for n in result.notes)
    return "\n".join(lines)


def _summary(result: Review) -> str:
    if not result.has_changes:
        return "no changes"
    counts = result.counts()
    parts = [
        f"{n} {kind}"
        for kind in ("added", "changed", "deleted", "renamed", "reformatted")
        if (n := counts.get(kind))
    ]
    if result.schemas:
        parts.append(f"{len(result.schemas)} context schema(s) changed")
    invalid = sum(1 for c in result.assistants if c.errors)
    broken = sum(len(s.broken) for s in result.schemas)
    status = (
        "all valid"
        if result.valid
        else (f"{invalid} invalid" + (f", {broken} broken by schema changes" if broken else ""))
    )
    return ", ".join(parts) + f"; {status}"


def _broken_summary(schema: SchemaChange) -> str:
    if not schema.broken:
        return f"all {schema.assistants} assistant(s) of graph `{schema.graph_id}` still validate"
    return (
        f"{len(schema.broken)} of {schema.assistants} assistant(s) of graph "
        f"`{schema.graph_id}` stop validating"
    )


# --------------------------------------------------------------------------- markdown


def _code(text: str) -> str:
    text = text.replace("\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _code(text).replace("|", "\\|")


def _fenced(body: str, lang: str = "diff") -> list[str]:
    lines = body.splitlines()
    if len(lines) > _MAX_DIFF_LINES:
        lines = [*lines[:_MAX_DIFF_LINES], f"… ({len(lines) - _MAX_DIFF_LINES} more lines)"]
    fence = "````" if "```" in body else "```"
    return [f"{fence}{lang}", *lines, fence]


def change_markdown(change: AssistantChange) -> str:
    icon = {"added": "🆕", "changed": "✏️", "deleted": "🗑️", "renamed": "🚚"}.get(change.kind, "📄")
    status = "❌" if change.errors else ""
    lines = [
        f"### {icon} {change.name} {status}".rstrip(),
        "",
        f"{_code(change.path)} · {_headline(change)}"
        + (f" · id {_code(change.assistant_id)}" if change.assistant_id else ""),
        "",
    ]
    lines += _md_fields(change.fields)
    if change.problems:
        lines += ["**Problems at HEAD:**", ""]
        lines += [
            f"- {'❌' if p.severity == 'error' else '⚠️'} {_code(p.where())} "
            f"{_code(p.json_path)}: {p.message}"
            for p in change.problems
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def _md_fields(fields: tuple[FieldChange, ...]) -> list[str]:
    shown = fields[:_MAX_FIELDS]
    plain = [f for f in shown if not f.text_diff]
    lines: list[str] = []
    if plain:
        lines += ["| field | before | after |", "|---|---|---|"]
        lines += [
            f"| {_cell(_short_path(f.path))} | "
            f"{_cell(_value(f.old)) if f.kind != 'added' else ''} | "
            f"{_cell(_value(f.new)) if f.kind != 'removed' else ''} |"
            for f in plain
        ]
        lines.append("")
    for f in shown:
        if f.text_diff:
            lines += [
                f"<details><summary><code>{_html(_short_path(f.path))}</code> (text diff)"
                "</summary>",
                "",
                *_fenced(f.text_diff),
                "",
                "</details>",
                "",
            ]
    if len(fields) > _MAX_FIELDS:
        lines += [f"_… and {len(fields) - _MAX_FIELDS} more field change(s)_", ""]
    return lines


def _md_schema(schema: SchemaChange) -> str:
    icon = "❌" if schema.broken else "✅"
    lines = [
        f"### 📐 Context schema {_code(schema.path)} {schema.kind}",
        "",
        f"{icon} {_broken_summary(schema)}",
        "",
    ]
    for item in schema.broken[:_MAX_BROKEN]:
        first = item.problems[0] if item.problems else None
        why = f": {first.message}" if first else ""
        lines.append(f"- {item.name} ({_code(item.path)}){why}")
    if len(schema.broken) > _MAX_BROKEN:
        lines.append(f"- … and {len(schema.broken) - _MAX_BROKEN} more")
    if schema.broken:
        lines.append("")
    lines += [
        "<details><summary>schema diff</summary>",
        "",
        *_fenced(schema.text_diff),
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines) + "\n"


def render_markdown(result: Review, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment; stays under ``limit`` characters, saying what it left out."""
    header = _md_header(result)
    reserve = 1_000  # room for the closing summary of what was cut
    parts, used = [header], len(header)
    blocks = [_md_schema(s) for s in result.schemas]
    ordered = sorted(result.assistants, key=lambda c: (not c.errors, c.path))
    shown = 0
    for block in blocks:
        if used + len(block) + reserve <= limit:
            parts.append(block)
            used += len(block)
    for change in ordered:
        block = change_markdown(change)
        if used + len(block) + reserve > limit:
            break
        parts.append(block)
        used += len(block)
        shown += 1
    rest = ordered[shown:]
    if rest:
        parts.append(_md_cut(rest, limit - used))
    return "".join(parts)


def _md_header(result: Review) -> str:
    icon = "✅" if result.valid else "❌"
    lines = [
        "## gitassist: assistant changes",
        "",
        f"{icon} {_code(result.base[:12])}..{_code(result.head[:12])}: {_summary(result)}",
        "",
    ]
    lines += [f"- ❌ {_code(p.where())}: {p.message}" for p in result.problems]
    lines += [f"> {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def _md_cut(rest: list[AssistantChange], room: int) -> str:
    """One line per change that did not fit, while they fit; then what was left out."""
    counts = Counter(c.kind for c in rest)
    what = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    closing = (
        f"\n_{len(rest)} assistant change(s) not shown in full to stay under GitHub's "
        f"{MARKDOWN_LIMIT:,}-character comment limit ({what}). Run `gitassist diff` "
        "locally for the complete diff._\n"
    )
    lines = ["### Not shown in full", ""]
    used = len(closing) + 40
    listed = 0
    for change in rest:
        line = f"- {change.name} ({_code(change.path)}): {_headline(change)}\n"
        if used + len(line) > room - 200:
            break
        lines.append(line.rstrip("\n"))
        used += len(line)
        listed += 1
    if listed < len(rest):
        lines.append(f"- … and {len(rest) - listed} more")
    return "\n".join(lines) + "\n" + closing


__all__ = [
    "Affected",
    "AssistantChange",
    "FieldChange",
    "Review",
    "SchemaChange",
    "change_markdown",
    "change_text",
    "compare_versions",
    "default_base",
    "diff_documents",
    "render_markdown",
    "render_text",
    "review",
    "text_diff",
]
