"""Validate the assistant files of a revision or the working tree: list them, check each
(:mod:`gitassist.document_checks`, once per blob through :mod:`gitassist.validate_cache`),
then the checks across files: duplicate ids, missing schemas, ``$schema`` lines.

Speed: documents are parsed with the fast safe loader and each schema's validator is compiled
once per schema file (:mod:`gitassist.schemas`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.document_checks import document_problems, problem_at
from gitassist.documents import Locator
from gitassist.errors import NotFound
from gitassist.problems import Problem
from gitassist.schemas import (
    SchemaSet,
    document_schema_path,
    read_schemas,
    schema_line_target,
    schema_path,
)
from gitassist.validate_cache import ValidateCache
from gitassist.validate_rows import (
    GcPause,
    Result,
    Summary,
    content_id,
    read_listed,
    summary_of,
    work_documents,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable

    from pygit2 import Tree

    from gitassist.documents import AssistantDocument
    from gitassist.progress import Progress
    from gitassist.project import Project
    from gitassist.store import Store

_ID_LINE = re.compile(r"^assistant_id:\s*['\"]?([0-9a-fA-F-]{36})", re.M)


# --------------------------------------------------------------------------- many documents


@dataclass(frozen=True)
class Report:
    """The result of validating documents: every problem, and how many documents were read."""

    problems: tuple[Problem, ...]
    documents: int
    rev: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "rev": self.rev,
            "documents": self.documents,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
        }


# (path, text, document): text None when not read (a cache hit; read again only if a problem
# needs it). A plain tuple: a warm run makes one per document.
_Checked = tuple[str, "str | None", "AssistantDocument | Summary | None"]


def validate(
    store: Store,
    *,
    rev: str | None = None,
    paths: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Validate the assistant files at ``rev`` (default: the working tree).

    With ``paths``, only those files are checked, but an ``assistant_id`` is still compared
    with every other file in the assistants directory. ``progress`` is told of each file.
    """
    with GcPause() as pause:  # a warm run makes only acyclic records: no cyclic GC passes
        return _validate(store, rev, paths, progress, pause)


def _validate(
    store: Store, rev: str | None, paths: Iterable[str] | None, progress: Any, pause: GcPause
) -> Report:
    import time

    started = time.time_ns()  # before any stat data is taken (the racy-clean rule)
    tree, label = None, None
    project = store.project
    if rev is not None:
        commit = store.commit(rev)
        tree, label = commit.tree, rev
        project = store.project_at(commit)
    stats: dict[str, os.stat_result] = {}
    all_files = assistant_files(store, project, tree, stats)
    selected = all_files if paths is None else _selected(store, paths, tree, all_files)
    schemas, problems = read_schemas(store, project, tree, rev=label)
    checked: list[_Checked] = []
    # parse + check once per blob; work-tree files known by their stat data are not read
    cache = ValidateCache(store.common_dir, project, schemas, store.root if tree is None else None)
    exists = functools.cache(functools.partial(_is_file, store, tree))
    said: dict[tuple[str, str], str | None] = {}  # $schema line messages by folder, target
    for path, known in selected.items():
        text: str | None = None
        blob, hit = known, None
        st = stats.get(path)
        if known is not None:
            hit = cache.get(path, known, label)
        elif st is not None:
            blob, hit = cache.lookup_work(path, st, label)
        if hit is None:
            if known is not None:
                text = store.document_text(known)
            else:
                text, now = read_listed(store, path, st)
                blob = content_id(text)
                if now is not None:
                    cache.remember_blob(path, now, started, blob)
                hit = cache.get(path, blob, label)
        if hit is None:
            assert text is not None and blob is not None
            pause.resume()  # parsing makes reference cycles (loaders): collect as usual
            document, found = document_problems(text, path, project, schemas, rev=label)
            summary = summary_of(document) if document else None
            hit = Result(tuple(found), summary, schema_line_target(path, text))
            cache.store(path, blob, hit)
        checked.append((path, text, hit.summary))
        problems.extend(hit.problems)
        line = hit.schema_line
        if line is not None:  # the message once per folder and target (schema_line_warnings)
            said_before = said.get((path.rpartition("/")[0], line[0]), "")
            if said_before == "":
                problems.extend(schema_line_warnings(project, path, line, label, exists, said))
            elif said_before is not None:
                args = (path, said_before, "$", line[1], line[2], label, "schema_line")
                problems.append(Problem(*args, "warning"))
        if progress is not None:
            progress("validate", len(checked), len(selected))
    cache.flush(all_files if tree is None else None)
    problems.extend(missing_schema_problems(project, schemas, checked, label))
    others = {p: t for p, t in all_files.items() if p not in selected}

    def read(path: str) -> str:
        known = selected[path]
        return store.document_text(known) if known else read_listed(store, path, None)[0]

    problems.extend(duplicate_problems(checked, quick_ids(store, tree, others), label, read))
    return Report(tuple(problems), len(checked), label)


def assistant_files(
    store: Store,
    project: Project,
    tree: Tree | None,
    stats: dict[str, os.stat_result] | None = None,
) -> dict[str, str | None]:
    """Assistant files by repo-relative path, in every subfolder; the value is the blob id
    (None: working tree, whose files' lstat data go to ``stats``). What lies there and is
    not a document is one warning."""
    from gitassist.store import skipped_warning

    base = project.settings.assistants_dir
    if tree is not None:
        present = store.assistants_tree(tree, base) is not None
    else:
        present = (store.root / base).is_dir()
    project.settings.require_assistants_dir(present)  # a typo in gitassist.yaml is no "0 valid"
    skipped: list[str] = []
    if tree is not None:
        found: dict[str, str | None] = {
            e.path: e.blob for e in store.entries(tree, base, skipped).values()
        }
    else:
        found = dict.fromkeys(work_documents(store, base, skipped, stats), None)
    if skipped:
        store.warn(skipped_warning(skipped))
    return found


def _selected(
    store: Store, paths: Iterable[str], tree: Tree | None, all_files: dict[str, str | None]
) -> dict[str, str | None]:
    from gitassist.worktree import is_file

    out: dict[str, str | None] = {}
    for raw in paths:
        rel = _relative(store, raw)
        if rel in all_files:
            out[rel] = all_files[rel]
        elif tree is not None:
            try:
                out[rel] = str(tree[rel].id)
            except KeyError:
                raise NotFound(f"{rel} is not in the tree at this revision") from None
        elif is_file(store.root, rel):
            out[rel] = None
        else:
            raise NotFound(f"no such file: {raw}")
    return out


def _relative(store: Store, raw: str) -> str:
    path = Path(raw)
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:  # the folder resolved, not the file: a symlinked document stays itself
        resolved = absolute.parent.resolve() / absolute.name
        return resolved.relative_to(store.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()  # already relative to the repository (e.g. with --rev)


def _texts(
    store: Store, tree: Tree | None, files: dict[str, str | None]
) -> Iterable[tuple[str, str]]:
    for path, blob in files.items():
        if blob is not None:
            yield path, store.document_text(blob)
        else:
            yield path, store.read_work_text(path, errors="surrogateescape") or ""


def quick_ids(
    store: Store, tree: Tree | None, files: dict[str, str | None]
) -> dict[str, list[str]]:
    """assistant id -> paths, from a regex over the files not being validated (no parse)."""
    out: dict[str, list[str]] = {}
    for path, text in _texts(store, tree, files):
        found = _ID_LINE.search(text)
        if found:
            out.setdefault(found.group(1).lower(), []).append(path)
    return out


def duplicate_problems(
    checked: list[_Checked],
    others: dict[str, list[str]],
    rev: str | None,
    read: Callable[[str], str] | None = None,
) -> list[Problem]:
    """An ``assistant_id`` held by two files is an error on each, naming the other."""
    holders: dict[str, list[_Checked]] = {}
    for item in checked:
        if item[2] is not None:
            holders.setdefault(item[2].assistant_id, []).append(item)
    problems = []
    for assistant_id, items in holders.items():
        if len(items) == 1 and assistant_id not in others:
            continue  # the common case: one holder
        paths = list(dict.fromkeys([i[0] for i in items] + others.get(assistant_id, [])))
        if len(paths) < 2:
            continue
        for item in items:
            rest = ", ".join(p for p in paths if p != item[0])
            problems.append(
                problem_at(
                    Locator(_text_of(item, read)),
                    item[0],
                    ("assistant_id",),
                    f"assistant_id {assistant_id} is also used by {rest}",
                    rev,
                    "duplicate_id",
                )
            )
    return problems


def _text_of(item: _Checked, read: Callable[[str], str] | None) -> str:
    path, text, _ = item
    if text is not None:
        return text
    return read(path) if read is not None else ""


def duplicate_id_problems(
    path: str, text: str, document: AssistantDocument, others: list[str], rev: str | None
) -> list[Problem]:
    """:func:`duplicate_problems` for one file whose id ``others`` (paths) also hold."""
    checked: list[_Checked] = [(path, text, document)]
    return duplicate_problems(checked, {document.assistant_id: others}, rev)


def missing_schema_problems(
    project: Project, schemas: SchemaSet, checked: list[_Checked], rev: str | None
) -> list[Problem]:
    """A warning per graph whose documents set context values but that has no committed
    context schema (so the values go unchecked)."""
    used = {d.graph_id for _, _, d in checked if d is not None and d.context}
    return [
        Problem(
            schema_path(project, graph_id),
            f"graph `{graph_id}` has no committed context schema, so context values are "
            "not checked; run `gitassist schemas export` and commit the file",
            "$",
            None,
            None,
            rev,
            "missing_schema",
            "warning",
        )
        for graph_id in sorted(used)
        if project.has_graph(graph_id) and graph_id not in schemas.schemas
    ]


def schema_line_warnings(
    project: Project,
    path: str,
    found: tuple[str, int, int] | None,
    rev: str | None,
    exists: Callable[[str], bool],
    memo: dict[tuple[str, str], str | None] | None = None,
) -> list[Problem]:
    """A warning when the document's ``# yaml-language-server: $schema=`` line (``found``:
    :func:`gitassist.schemas.schema_line_target`) points at a file that is not there
    (resolved against the document's directory, as the editor does), naming the path that
    would work. Looks only inside the repository (``exists``: the tree, else the working
    tree); a path leaving it, or an absolute one, is a warning of its own. ``memo`` keeps
    the message by folder and target for one run (documents of a folder share their line)."""
    import posixpath

    if found is None:
        return []
    target, line, column = found
    key = (path.rpartition("/")[0], target)  # dirname() is a function of this part alone
    if memo is not None and key in memo:
        message = memo[key]
    else:
        here = posixpath.dirname(path) or "."
        message = _schema_line_message(project, here, target, exists)
        if memo is not None:
            memo[key] = message
    if message is None:
        return []
    return [Problem(path, message, "$", line, column, rev, "schema_line", "warning")]


def _schema_line_message(
    project: Project, here: str, target: str, exists: Callable[[str], bool]
) -> str | None:
    import posixpath

    outside = target.startswith(("/", "../")) or target == ".."
    if not outside and exists(target):
        return None
    wanted = document_schema_path(project)
    advice = ""
    if target == wanted:
        advice = "; run `gitassist schemas export` and commit it"
    elif exists(wanted):
        advice = f"; from this file it is `{posixpath.relpath(wanted, here)}`"
    where = "is outside the repository" if outside else "does not exist"
    return f"the `$schema` line points at `{_shown(target)}`, which {where}{advice}"


def _shown(text: str, limit: int = 200) -> str:
    """``text`` as it may be printed: unprintable characters escaped, at most ``limit`` long."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _is_file(store: Store, tree: Tree | None, rel: str) -> bool:
    if tree is None:
        try:
            return (store.root / rel).is_file()
        except (OSError, ValueError):  # a name too long for the file system, …
            return False
    try:
        entry = tree[rel]
    except (KeyError, ValueError):
        return False
    return entry.type_str == "blob"
