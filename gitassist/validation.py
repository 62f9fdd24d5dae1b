"""Validate the assistant files of a revision or the working tree: list them, check each
(:mod:`gitassist.document_checks`, once per blob through :mod:`gitassist.validate_cache`),
then the checks across files: duplicate ids, missing schemas, ``$schema`` lines.

Speed: documents are parsed with the fast safe loader and each schema's validator is compiled
once per schema file (:mod:`gitassist.schemas`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.document_checks import document_problems, problem_at
from gitassist.documents import Locator
from gitassist.errors import NotFound
from gitassist.problems import Problem
from gitassist.progress import Progress, noop
from gitassist.schemas import (
    SchemaSet,
    document_schema_path,
    read_schemas,
    schema_line_target,
    schema_path,
)
from gitassist.validate_cache import Result, Summary, ValidateCache, content_id, summary_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pygit2 import Tree

    from gitassist.documents import AssistantDocument
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


@dataclass(frozen=True)
class _Checked:
    path: str
    text: str
    document: AssistantDocument | Summary | None


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
    tree, label = None, None
    project = store.project
    if rev is not None:
        commit = store.commit(rev)
        tree, label = commit.tree, rev
        project = store.project_at(commit)
    all_files = assistant_files(store, project, tree)
    selected = all_files if paths is None else _selected(store, paths, tree, all_files)
    schemas, problems = read_schemas(store, project, tree, rev=label)
    checked: list[_Checked] = []
    tell = noop if progress is None else progress
    cache = ValidateCache(store.common_dir, project, schemas)  # parse + check once per blob
    texts = [(p, t, selected[p] or content_id(t)) for p, t in _texts(store, tree, selected)]
    hits = cache.lookup([(p, b) for p, _, b in texts], label)
    for path, text, blob in texts:
        hit = hits.get((path, blob))
        if hit is None:
            document, found = document_problems(text, path, project, schemas, rev=label)
            hit = Result(tuple(found), summary_of(document) if document else None)
            cache.store(path, blob, hit)
        checked.append(_Checked(path, text, hit.summary))
        problems.extend(hit.problems)
        problems.extend(schema_line_problems(store, project, tree, path, text, label))
        tell("validate", len(checked), len(selected))
    cache.flush()
    problems.extend(missing_schema_problems(project, schemas, checked, label))
    others = {p: t for p, t in all_files.items() if p not in selected}
    problems.extend(duplicate_problems(checked, quick_ids(store, tree, others), label))
    return Report(tuple(problems), len(checked), label)


def assistant_files(store: Store, project: Project, tree: Tree | None) -> dict[str, str | None]:
    """Assistant files by repo-relative path, in every subfolder; the value is the blob id
    (None: working tree). What lies there and is not a document is one warning."""
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
        found = dict.fromkeys(_work_documents(store, base, skipped), None)
    if skipped:
        store.warn(skipped_warning(skipped))
    return found


def _work_documents(store: Store, base: str, skipped: list[str]) -> list[str]:
    """Regular ``*.yaml``/``*.yml`` files under ``base`` in the working tree (no symlink is
    followed); other files, unless git ignores them, go to ``skipped``."""
    import os

    from gitassist.store import KEEP, TMP_SUFFIX, YAML_SUFFIXES
    from gitassist.worktree import check_path

    check_path(store.root, base)  # a symlinked (or escaping) assistants folder is refused
    folder = store.root / base
    out: list[str] = []
    for top, dirs, files in os.walk(folder):
        rel = Path(top).relative_to(store.root).as_posix()
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files) + [d for d in dirs if (Path(top) / d).is_symlink()]:
            path, full = f"{rel}/{name}", Path(top) / name
            if name.endswith(YAML_SUFFIXES) and full.is_file() and not full.is_symlink():
                out.append(path)
            elif (
                name != KEEP
                and not name.endswith(TMP_SUFFIX)
                and not store.repo.path_is_ignored(path)
            ):
                skipped.append(path)
    return sorted(out)


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
    checked: list[_Checked], others: dict[str, list[str]], rev: str | None
) -> list[Problem]:
    """An ``assistant_id`` held by two files is an error on each, naming the other."""
    holders: dict[str, list[_Checked]] = {}
    for item in checked:
        if item.document is not None:
            holders.setdefault(item.document.assistant_id, []).append(item)
    problems = []
    for assistant_id, items in holders.items():
        paths = list(dict.fromkeys([i.path for i in items] + others.get(assistant_id, [])))
        if len(paths) < 2:
            continue
        for item in items:
            rest = ", ".join(p for p in paths if p != item.path)
            problems.append(
                problem_at(
                    Locator(item.text),
                    item.path,
                    ("assistant_id",),
                    f"assistant_id {assistant_id} is also used by {rest}",
                    rev,
                    "duplicate_id",
                )
            )
    return problems


def duplicate_id_problems(
    path: str, text: str, document: AssistantDocument, others: list[str], rev: str | None
) -> list[Problem]:
    """:func:`duplicate_problems` for one file whose id ``others`` (paths) also hold."""
    checked = [_Checked(path, text, document)]
    return duplicate_problems(checked, {document.assistant_id: others}, rev)


def missing_schema_problems(
    project: Project, schemas: SchemaSet, checked: list[_Checked], rev: str | None
) -> list[Problem]:
    """A warning per graph whose documents set context values but that has no committed
    context schema (so the values go unchecked)."""
    used = {c.document.graph_id for c in checked if c.document is not None and c.document.context}
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


def schema_line_problems(
    store: Store, project: Project, tree: Tree | None, path: str, text: str, rev: str | None
) -> list[Problem]:
    """A warning when the document's ``# yaml-language-server: $schema=`` line points at a
    file that is not there (resolved against the document's directory, as the editor does),
    naming the path that would work. Looks only inside the repository (``tree``, else the
    working tree); a path leaving it, or an absolute one, is a warning of its own."""
    import posixpath

    found = schema_line_target(path, text)
    if found is None:
        return []
    target, line, column = found
    outside = target.startswith(("/", "../")) or target == ".."
    if not outside and _is_file(store, tree, target):
        return []
    wanted = document_schema_path(project)
    advice = ""
    if target == wanted:
        advice = "; run `gitassist schemas export` and commit it"
    elif _is_file(store, tree, wanted):
        here = posixpath.dirname(path) or "."
        advice = f"; from this file it is `{posixpath.relpath(wanted, here)}`"
    where = "is outside the repository" if outside else "does not exist"
    message = f"the `$schema` line points at `{_shown(target)}`, which {where}{advice}"
    return [Problem(path, message, "$", line, column, rev, "schema_line", "warning")]


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
