"""validate, diff, schemas, versions diff: reviewing assistant changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from gitassist.cli.options import format_option, json_option, repo_option, store_for
from gitassist.cli.render import emit_json, err, out, problem_line
from gitassist.errors import ExitCode

if TYPE_CHECKING:
    from gitassist.problems import Problem
    from gitassist.validation import Report


# --------------------------------------------------------------------------- validate


def _escape(text: str, prop: bool = False) -> str:
    """GitHub workflow-command escaping (properties also escape ':' and ',')."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_line(problem: Problem) -> str:
    """``::error file=…,line=…,col=…::message``: an annotation on the pull request's diff."""
    props = [f"file={_escape(problem.file, True)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.column is not None:
            props.append(f"col={problem.column}")
    props.append(f"title={_escape('gitassist ' + problem.code, True)}")
    where = "" if problem.json_path == "$" else f" ({problem.json_path})"
    return f"::{problem.severity} {','.join(props)}::{_escape(problem.message + where)}"


def _summary(report: Report) -> str:
    docs = f"{report.documents} document(s)"
    if not report.problems:
        return f"{docs} valid"
    return f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {docs}"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--rev", help="Validate the files at this git revision (default: working tree).")
@format_option(
    "human",
    "json",
    "github",
    help="github: GitHub Actions annotations (::error file=…,line=…,col=…::…).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too (e.g. secret-looking values).")
@repo_option
def validate(paths: tuple[str, ...], rev: str | None, fmt: str, strict: bool, repo: str) -> None:
    """Check every assistant document (or PATHS): format, graph_id, unique
    assistant_id, context against the committed schema of its graph.

    Reads the committed schemas/<graph_id>.context.json, never graph code. Every
    problem is reported with file, line, column and JSON path. Exit 3 when invalid.

    \b
    Examples:
      gitassist validate
      gitassist validate --rev origin/main --format github
    """
    from gitassist.cli.progress import progress
    from gitassist.validation import validate as run

    with progress(fmt == "json") as tell:
        report = run(store_for(repo), rev=rev, paths=paths or None, progress=tell)
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        render = github_line if fmt == "github" else problem_line
        for problem in report.problems:
            out(render(problem))
        (err if report.errors else out)(_summary(report))
    if report.errors or (strict and report.warnings):
        raise SystemExit(ExitCode.INVALID)


# --------------------------------------------------------------------------- diff


@click.command()
@click.argument("base", required=False)
@click.argument("head", required=False, default="HEAD")
@format_option(
    "human",
    "json",
    "markdown",
    help="markdown: a pull-request comment under GitHub's 65,536-character limit.",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes (like git diff).")
@repo_option
def diff(base: str | None, head: str, fmt: str, exit_code: bool, repo: str) -> None:
    """Review assistant changes from BASE to HEAD, field by field.

    BASE defaults to the merge-base of the tracked branch and HEAD: what a pull
    request changes. Shows added, changed, deleted and renamed assistants, a diff
    of each field (a text diff for long strings), the version each change becomes
    once merged and applied, validation at HEAD, and the assistants a changed
    context schema breaks. Secret-looking values are redacted.

    \b
    Examples:
      gitassist diff
      gitassist diff origin/main HEAD --format markdown > comment.md
    """
    from gitassist.cli.review_render import render_markdown, render_text
    from gitassist.review import review

    result = review(store_for(repo), base, head)
    if fmt == "json":
        emit_json(result.to_dict())
    elif fmt == "markdown":
        click.echo(render_markdown(result), nl=False)
    else:
        out(render_text(result))
    if exit_code and result.has_changes:
        raise SystemExit(ExitCode.CHANGES)


@click.command(name="diff")
@click.argument("target")
@click.argument("a", type=click.IntRange(min=1))
@click.argument("b", type=click.IntRange(min=1))
@format_option("human", "json", "markdown")
@repo_option
def versions_diff(target: str, a: int, b: int, fmt: str, repo: str) -> None:
    """Compare version A with version B of TARGET, field by field (secrets redacted).

    \b
    Examples:
      gitassist versions diff support 1 2
    """
    from gitassist.cli.review_render import change_markdown, change_text
    from gitassist.review import compare_versions

    change = compare_versions(store_for(repo), target, a, b)
    if fmt == "json":
        emit_json({"from": a, "to": b, **change.to_dict()})
    elif fmt == "markdown":
        click.echo(change_markdown(change), nl=False)
    else:
        out(f"version {a} -> {b}")
        out(change_text(change))


# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class SchemaFile:
    """One schema file and what export did, or check found."""

    name: str  # graph id, or "assistant" for the document schema
    path: str
    status: str  # written | unchanged | changed | no_context_schema | stale
    diff: str = ""


def _schema_files(store: Any, write: bool) -> list[SchemaFile]:
    """Export (or with write=False compare) every graph's context schema and the document
    schema. Imports the graphs: only these commands run graph code."""
    from gitassist.graphs import export_schemas

    project = store.project
    out_dir = store.root / project.settings.schemas_dir
    files = []
    for item in export_schemas(store.root, project.graphs, out_dir, write=write):
        rel = item.path.relative_to(store.root).as_posix()
        status: str = item.status
        if status == "no_context_schema" and item.path.is_file():
            status = "stale"  # a committed schema for a graph that no longer declares one
        files.append(SchemaFile(item.graph_id, rel, status, item.diff))
    files.append(_document_schema(store, out_dir, write))
    return files


def _document_schema(store: Any, out_dir: Any, write: bool) -> SchemaFile:
    import difflib

    from gitassist.scaffold import schema_text

    path = out_dir / "assistant.schema.json"
    rel = path.relative_to(store.root).as_posix()
    new = schema_text()
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    if old == new:
        return SchemaFile("assistant", rel, "unchanged")
    if not write:
        lines = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"{rel} (committed)",
            f"{rel} (gitassist)",
        )
        return SchemaFile("assistant", rel, "changed", "".join(lines))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return SchemaFile("assistant", rel, "written")


_STATUS_TEXT = {
    "written": "written",
    "unchanged": "up to date",
    "changed": "OUT OF DATE",
    "stale": "STALE: the graph declares no context schema any more; delete the file",
    "no_context_schema": "the graph declares no context schema: nothing to export "
    "(its assistants' context is not checked)",
}


def _render_files(files: list[SchemaFile], as_json: bool, show_diff: bool) -> None:
    if as_json:
        emit_json([f.__dict__ for f in files])
        return
    for f in files:
        label = f"graph `{f.name}`" if f.status == "no_context_schema" else f.path
        out(f"{label}: {_STATUS_TEXT[f.status]}")
        if show_diff and f.diff:
            out(f.diff.rstrip("\n"))


@click.group()
def schemas() -> None:
    """Context schemas: export them from the graphs' code; check they are current.

    \b
    Examples:
      gitassist schemas export
      gitassist schemas check
    """


@schemas.command(name="export")
@repo_option
@json_option
def export(repo: str, as_json: bool) -> None:
    """Write schemas/<graph_id>.context.json for each graph in langgraph.json, and
    schemas/assistant.schema.json, deterministic byte for byte. Commit them: a
    ContextSchema change then shows in the pull request, and validate reads them.

    This imports the graphs (runs their code); validate and diff never do.

    \b
    Examples:
      gitassist schemas export
      gitassist schemas export --json
    """
    _render_files(_schema_files(store_for(repo), write=True), as_json, show_diff=False)


@schemas.command(name="check")
@repo_option
@json_option
def check(repo: str, as_json: bool) -> None:
    """Fail (exit 1) when the committed schemas differ from what the code exports,
    naming each graph and showing the difference.

    \b
    Examples:
      gitassist schemas check            in CI, with the graphs' dependencies
    """
    files = _schema_files(store_for(repo), write=False)
    _render_files(files, as_json, show_diff=True)
    drifted = [f.name for f in files if f.status in ("changed", "stale")]
    if drifted:
        if not as_json:
            err(
                f"schemas out of date: {', '.join(drifted)}; run `gitassist schemas export` "
                "and commit the result"
            )
        raise SystemExit(ExitCode.CHANGES)


COMMANDS: list[click.Command] = [validate, diff, schemas]
