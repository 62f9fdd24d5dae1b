"""validate, diff, schemas, versions diff: reviewing assistant changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gitassist.cli.options import IntRange, format_option, json_option, repo_option, store_for
from gitassist.cli.render import emit_json, err, out, problem_line, review_output
from gitassist.errors import ExitCode

if TYPE_CHECKING:
    from gitassist.problems import Problem
    from gitassist.schema_export import ExportedFile
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
@review_output
def validate(paths: tuple[str, ...], rev: str | None, fmt: str, strict: bool, repo: str) -> None:
    """Check every assistant document (or PATHS): format, graph_id, unique
    assistant_id, context against the committed schema of its graph.

    Reads the committed context schema of each graph, never graph code. Every
    problem is reported with file, line, column and JSON path. Exit 3 when invalid.

    \b
    Examples:
      gitassist validate
      gitassist validate --rev origin/main --format github
    """
    from gitassist.cli.progress import progress
    from gitassist.redact import scrub
    from gitassist.validation import validate as run

    with progress(fmt == "json") as tell:
        report = scrub(run(store_for(repo), rev=rev, paths=paths or None, progress=tell))
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
@review_output
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
    from gitassist.redact import scrub
    from gitassist.review import review

    result = scrub(review(store_for(repo), base, head))
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
@click.argument("a", type=IntRange(min=1))
@click.argument("b", type=IntRange(min=1))
@format_option("human", "json", "markdown")
@repo_option
@review_output
def versions_diff(target: str, a: int, b: int, fmt: str, repo: str) -> None:
    """Compare version A with version B of TARGET, field by field (secrets redacted).

    \b
    Examples:
      gitassist versions diff support-bot 1 2
    """
    from gitassist.cli.review_render import change_markdown, change_text
    from gitassist.redact import scrub
    from gitassist.review import compare_versions

    change = scrub(compare_versions(store_for(repo), target, a, b))
    if fmt == "json":
        emit_json({"from": a, "to": b, **change.to_dict()})
    elif fmt == "markdown":
        click.echo(change_markdown(change), nl=False)
    else:
        out(f"version {a} -> {b}")
        out(change_text(change))


# --------------------------------------------------------------------------- schemas


_STATUS_TEXT = {
    "written": "written",
    "unchanged": "up to date",
    "changed": "OUT OF DATE",
    "stale": "STALE: the graph declares no context schema any more; delete the file",
    "no_context_schema": "the graph declares no context schema: nothing to export "
    "(its assistants' context is not checked)",
}


def _schema_files(repo: str, write: bool) -> list[ExportedFile]:
    from gitassist.schema_export import export_all

    return export_all(store_for(repo), write=write)


def _render_files(files: list[ExportedFile], as_json: bool, show_diff: bool) -> None:
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
    """Write each graph's context schema into schemas/ (one file per graph id) and
    schemas/assistant.schema.json, deterministic byte for byte. Commit them: a
    ContextSchema change then shows in the pull request, and validate reads them.

    This imports the graphs (runs their code); validate and diff never do.

    \b
    Examples:
      gitassist schemas export
      gitassist schemas export --json
    """
    _render_files(_schema_files(repo, write=True), as_json, show_diff=False)


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
    files = _schema_files(repo, write=False)
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
