"""validate, diff, schemas, versions diff: reviewing assistant changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gitassist.cli.options import IntRange, format_option, json_option, repo_option, store_for
from gitassist.cli.render import emit_json, err, out, problem_line, review_output
from gitassist.errors import ExitCode

if TYPE_CHECKING:
    from gitassist.problems import Problem
    from gitassist.schema_export import ExportedFile
    from gitassist.store import Store
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
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="ENV",
    help="Twice: what the first environment holds against the second (latest allowed).",
)
@repo_option
@review_output
def diff(
    base: str | None, head: str, fmt: str, exit_code: bool, envs: tuple[str, ...], repo: str
) -> None:
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
      gitassist diff --env production --env staging    what the next release changes
    """
    from gitassist.cli.review_render import render_markdown, render_text
    from gitassist.redact import scrub
    from gitassist.review import review

    if envs:
        if len(envs) != 2 or base is not None:
            raise click.UsageError("--env goes twice (--env A --env B), without BASE/HEAD")
        changed = _env_diff(store_for(repo), envs[0], envs[1], fmt)
        if exit_code and changed:
            raise SystemExit(ExitCode.CHANGES)
        return

    result = scrub(review(store_for(repo), base, head))
    if fmt == "json":
        emit_json(result.to_dict())
    elif fmt == "markdown":
        click.echo(render_markdown(result), nl=False)
    else:
        out(render_text(result))
    if exit_code and result.has_changes:
        raise SystemExit(ExitCode.CHANGES)


def _env_diff(store: Store, a: str, b: str, fmt: str) -> bool:
    """Per assistant, the document environment ``a`` holds against ``b``'s; whether any
    differ. ``latest`` names the latest pointers."""
    from gitassist.cli.review_render import change_markdown, change_text
    from gitassist.environments import declared
    from gitassist.promote import environment
    from gitassist.redact import scrub
    from gitassist.resolve import recorded_ids
    from gitassist.review import compare_versions
    from gitassist.versions import read_latest

    envs = declared(store)
    for name in (a, b):
        if name != "latest":
            environment(envs, name)
    rows = []
    for assistant_id in sorted(recorded_ids(store)):
        left, right = (
            read_latest(store, assistant_id, None if n == "latest" else n) for n in (a, b)
        )
        va = left.version if left is not None and not left.deleted else None
        vb = right.version if right is not None and not right.deleted else None
        if va == vb:
            continue
        change = None
        if va is not None and vb is not None:
            change = scrub(compare_versions(store, assistant_id, va, vb))
        rows.append((assistant_id, va, vb, change))
    if fmt == "json":
        emit_json(
            {
                "from": a,
                "to": b,
                "assistants": [
                    {
                        "assistant_id": i,
                        "from_version": va,
                        "to_version": vb,
                        **(c.to_dict() if c is not None else {}),
                    }
                    for i, va, vb, c in rows
                ],
            }
        )
        return bool(rows)
    lines = [f"{a} -> {b}: {len(rows)} assistant(s) differ"]
    for assistant_id, va, vb, change in rows:
        lines.append(f"{assistant_id}: {_held(va)} -> {_held(vb)}")
        if change is not None:
            lines.append(change_markdown(change) if fmt == "markdown" else change_text(change))
    out("\n".join(lines))
    return bool(rows)


def _held(version: int | None) -> str:
    return f"version {version}" if version is not None else "nothing"


class _VersionOrName(click.ParamType[str]):
    """A version number (ASCII digits, at least 1), ``latest`` or an environment's name."""

    name = "N|ENV"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if text.isdigit() or text[:1] in "+-":
            return str(IntRange(min=1).convert(text, param, ctx))
        return text


VERSION_OR_NAME = _VersionOrName()


@click.command(name="diff")
@click.argument("target")
@click.argument("a_spec", metavar="A", type=VERSION_OR_NAME)
@click.argument("b_spec", metavar="B", type=VERSION_OR_NAME)
@format_option("human", "json", "markdown")
@repo_option
@review_output
def versions_diff(target: str, a_spec: str, b_spec: str, fmt: str, repo: str) -> None:
    """Compare version A with version B of TARGET, field by field (secrets redacted).

    A and B are version numbers, latest, or environments (staging, production).

    \b
    Examples:
      gitassist versions diff support-bot 1 2
      gitassist versions diff support-bot production staging
    """
    from gitassist.cli.review_render import change_markdown, change_text
    from gitassist.naming import resolve_id
    from gitassist.redact import scrub
    from gitassist.resolve import version_number
    from gitassist.review import compare_versions

    store = store_for(repo)
    assistant_id = resolve_id(store, target)
    a, b = (version_number(store, assistant_id, s) for s in (a_spec, b_spec))
    change = scrub(compare_versions(store, target, a, b))
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
    schemas/assistant.schema.json, the document schema bound to the graphs (editors
    complete and check graph_id and context through it), deterministic byte for byte.
    Commit them: a ContextSchema change then shows in the pull request, and validate
    reads them.

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
