"""sync, drift, adopt: a LangGraph Server deployment kept equal to the repository."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from gitassist.cli.options import json_option, repo_option, store_for
from gitassist.cli.render import emit_json, out
from gitassist.cli.terminal import value as safe

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.drift import DriftReport
    from gitassist.server import Remote
    from gitassist.store import Store
    from gitassist.sync import SyncReport


def header_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--header",
        "headers",
        multiple=True,
        metavar="K:V",
        help="An HTTP header for every request (repeatable), e.g. 'x-api-key:...'.",
    )(func)


def _bind_environment(store: Store, target: str) -> str | None:
    """``sync NAME`` / ``drift NAME`` where NAME is a declared environment: its pointers."""
    if "://" in target:
        return None
    from gitassist.environments import declared

    if target in declared(store):
        store.environment = target
        return target
    return None


def _remote(store: Store, target: str, headers: tuple[str, ...]) -> Remote:
    from gitassist.server import connect_target, parse_headers

    return connect_target(store, target, parse_headers(headers))


def deployment_plan_lines(store: Store, url: str) -> list[str]:
    """What ``gitassist sync URL`` would do, as lines (for ``plan --deployment URL``)."""
    from gitassist.sync import deployment_plan

    return plan_lines(deployment_plan(store, url))


def plan_lines(report: SyncReport) -> list[str]:
    """Human lines for a sync report (dry run or done)."""
    lines = [f"Deployment {report.url}" + (" (dry run)" if report.dry_run else "")]
    verbs = {
        "create": "create",
        "update": "update",
        "re-point": "re-point",
        "delete": "delete",
    }
    for item in report.items:
        if item.action == "none":
            continue
        what = item.result if not report.dry_run or item.result == "failed" else "would"
        verb = verbs.get(item.action, item.action)
        head = f"{what} {verb}" if what == "would" else what
        line = f"  {head}: {safe(item.name)} ({item.assistant_id[:8]})"
        if item.reason:
            line += f": {safe(item.reason)}"
        if item.corrected:
            line += f" [corrected: {', '.join(item.corrected)}]"
        if item.error:
            line += f" [error: {safe(item.error)}]"
        lines.append(line)
        lines.extend(
            f"      {d.path}: {short_value(d.server)} -> {short_value(d.git)}" for d in item.diff
        )
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do"
    lines.append(f"  {summary}; {report.requests} request(s), {report.writes} write(s)")
    return lines


def short_value(value: Any, limit: int = 60) -> str:
    text = "(absent)" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.command()
@click.argument("target", metavar="URL|NAME")
@click.option("--prune", is_flag=True, help="Delete server assistants git deleted or lacks.")
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@header_option
@repo_option
@json_option
def sync(
    target: str, prune: bool, dry_run: bool, headers: tuple[str, ...], repo: str, as_json: bool
) -> None:
    """Make a LangGraph Server's assistants equal git's latest versions.

    NAME an environment (gitassist.yaml environments: with a deployment): its
    pointers instead of latest; assistants it does not hold are "not promoted".

    Creates missing assistants with the same ids, updates only those that differ,
    re-points to a server version that already holds git's content (rollbacks),
    then reads every written assistant back and corrects what the server got wrong.
    With --prune, deletes assistants that carry the gitassist stamp but that git
    deleted or does not know; never the graphs' default assistants.

    \b
    API key: LANGSMITH_API_KEY or LANGGRAPH_API_KEY, or --header 'x-api-key:...'.
    Exit 8 when an assistant failed.

    \b
    Examples:
      gitassist sync production --dry-run
      gitassist sync http://127.0.0.1:2024 --prune --json
    """
    from gitassist.errors import ExitCode
    from gitassist.sync import sync as run_sync

    store = store_for(repo)
    environment = _bind_environment(store, target)
    from gitassist.cli.progress import progress

    with _remote(store, target, headers) as remote, progress(as_json) as tell:
        report = run_sync(store, remote, prune=prune, dry_run=dry_run, progress=tell)
    if as_json:
        emit_json({**report.to_dict(), "environment": environment})
    else:
        if environment is not None:
            out(f"Environment {environment}: syncing what its pointers hold")
        out("\n".join(plan_lines(report)))
    if report.failed:
        raise SystemExit(ExitCode.REMOTE)


def _drift_lines(report: DriftReport) -> list[str]:
    lines = [f"Drift of {report.url} against git"]
    for item in report.items:
        lines.append(
            f"  {item.kind}: {safe(item.name)} ({item.assistant_id[:8]}): {safe(item.detail)}"
        )
        lines.extend(
            f"      {d.path}: git {short_value(d.git)}, server {short_value(d.server)}"
            for d in item.diff
        )
    if report.drifted:
        lines.append(f"  {len(report.items)} drifted, {report.in_sync} in sync")
    else:
        lines.append(f"  No drift: {report.in_sync} assistant(s) in sync.")
    return lines


@click.command()
@click.argument("target", metavar="URL|NAME")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there is drift (for CI).")
@header_option
@repo_option
@json_option
def drift(target: str, exit_code: bool, headers: tuple[str, ...], repo: str, as_json: bool) -> None:
    """Report where a server's assistants differ from git, field by field.

    Kinds: missing (deleted on the server or never synced), edited (changed on the
    server after sync), unstamped (not written by gitassist), outdated (git has newer
    versions), unmanaged (created by hand on the server), deleted_in_git, orphaned.
    `gitassist sync` fixes all but unmanaged; `gitassist adopt` brings those into git.

    \b
    Examples:
      gitassist drift production --exit-code
    """
    from gitassist.drift import drift as run_drift
    from gitassist.errors import ExitCode

    store = store_for(repo)
    environment = _bind_environment(store, target)
    with _remote(store, target, headers) as remote:
        report = run_drift(store, remote)
    if environment is not None and not as_json:
        out(f"Environment {environment}: against what its pointers hold")
    if as_json:
        emit_json(report.to_dict())
    else:
        out("\n".join(_drift_lines(report)))
    if exit_code and report.drifted:
        raise SystemExit(ExitCode.CHANGES)


@click.command()
@click.argument("target", metavar="URL|NAME")
@click.option("--message", "-m", help="The commit message.")
@click.option(
    "--no-verify",
    "-n",
    is_flag=True,
    help="Skip the repository's pre-commit and commit-msg hooks (as git commit does).",
)
@header_option
@repo_option
@json_option
def adopt(
    target: str,
    message: str | None,
    no_verify: bool,
    headers: tuple[str, ...],
    repo: str,
    as_json: bool,
) -> None:
    """Write a server's assistants that git does not know into assistants/, in one commit.

    For a team starting from an existing deployment: run it on a branch and open a
    pull request. Skips the graphs' default assistants and assistants git deleted.

    \b
    Examples:
      gitassist adopt production -m "Adopt the deployment's assistants"
    """
    from gitassist.adopt import adopt as run_adopt

    store = store_for(repo)
    with _remote(store, target, headers) as remote:
        report = run_adopt(store, remote, message=message, verify=not no_verify)
    if as_json:
        emit_json(report.to_dict())
        return
    for item in report.items:
        where = f" -> {item.path}" if item.path and item.result == "adopted" else ""
        name, reason = safe(item.name), safe(item.reason)
        out(f"  {item.result}: {name} ({item.assistant_id[:8]}){safe(where)}: {reason}")
    if report.commit:
        recorded = " and recorded" if report.recorded else ""
        adopted = sum(1 for i in report.items if i.result == "adopted")
        out(f"Adopted {adopted} assistant(s) in {report.commit[:12]} on {report.branch}{recorded}.")
    else:
        out("Nothing to adopt.")


COMMANDS = [sync, drift, adopt]
